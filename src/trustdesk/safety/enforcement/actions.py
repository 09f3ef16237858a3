"""What Trustdesk can do to the platform, and how each action is carried out through the
platform port, reversed after a successful appeal, and described to the DSA database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from trustdesk.platform.port import ActionResult, Capability, Platform


class SubjectKind(StrEnum):
    MESSAGE = "message"
    ACCOUNT = "account"
    MEDIA = "media"
    CHAT = "chat"


class ActionKind(StrEnum):
    REMOVE_MESSAGE = "remove_message"
    RESTRICT_VISIBILITY = "restrict_visibility"
    GEO_RESTRICT = "geo_restrict"
    RESTRICT_ACCOUNT = "restrict_account"
    SUSPEND_ACCOUNT = "suspend_account"
    TERMINATE_ACCOUNT = "terminate_account"
    CLOSE_CHAT = "close_chat"


class Source(StrEnum):
    """Where the case came from; the DSA database's source type follows from it."""

    NOTICE = "notice"
    TRUSTED_FLAGGER = "trusted_flagger"
    RULE = "rule"
    HASH_MATCH = "hash_match"
    LEGAL = "legal"
    OWN_INITIATIVE = "own_initiative"


@dataclass(frozen=True)
class ActionSpec:
    subject: SubjectKind
    dsa: dict[str, Any]  # the statement's decision_* fields for this action
    timed: bool  # may carry an end date
    reversible: bool  # the port has a method to undo it (an adapter may still answer that it cannot)
    territorial: bool = False  # the port carries it out in named countries only; others apply everywhere


# Both message restrictions hide the message from everyone but its author (where they apply):
# the DSA database calls that "disabling access to content", not demotion, which would mean
# the message is still there for others, only ranked lower.
SPECS: dict[ActionKind, ActionSpec] = {
    ActionKind.REMOVE_MESSAGE: ActionSpec(
        SubjectKind.MESSAGE, {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}, False, True
    ),
    ActionKind.RESTRICT_VISIBILITY: ActionSpec(
        SubjectKind.MESSAGE, {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]}, True, True, True
    ),
    ActionKind.GEO_RESTRICT: ActionSpec(
        SubjectKind.MESSAGE, {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]}, True, True, True
    ),
    ActionKind.RESTRICT_ACCOUNT: ActionSpec(
        SubjectKind.ACCOUNT, {"decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION"}, True, True
    ),
    ActionKind.SUSPEND_ACCOUNT: ActionSpec(SubjectKind.ACCOUNT, {"decision_account": "DECISION_ACCOUNT_SUSPENDED"}, True, True),
    ActionKind.TERMINATE_ACCOUNT: ActionSpec(
        SubjectKind.ACCOUNT, {"decision_account": "DECISION_ACCOUNT_TERMINATED"}, False, True
    ),
    ActionKind.CLOSE_CHAT: ActionSpec(
        SubjectKind.CHAT, {"decision_provision": "DECISION_PROVISION_TOTAL_TERMINATION"}, False, True
    ),
}

# What the platform must declare it can do before an action is offered or attempted.
NEEDS: dict[ActionKind, Capability] = {
    ActionKind.RESTRICT_VISIBILITY: Capability.RESTRICT_MESSAGE,
    ActionKind.GEO_RESTRICT: Capability.RESTRICT_MESSAGE,
}

# The end date field the DSA database has for a timed action of each kind.
END_DATE_FIELD = {
    ActionKind.RESTRICT_VISIBILITY: "end_date_visibility_restriction",
    ActionKind.GEO_RESTRICT: "end_date_visibility_restriction",
    ActionKind.RESTRICT_ACCOUNT: "end_date_service_restriction",
    ActionKind.SUSPEND_ACCOUNT: "end_date_account_restriction",
}


def supported(platform: Platform, action: ActionKind) -> bool:
    """An action the platform does not declare it can do is refused before anything, and
    not offered in the console: the Matrix adapter, say, cannot hide a message from some."""
    needed = NEEDS.get(action)
    return needed is None or needed in platform.capabilities


def offered(platform: Platform) -> list[ActionKind]:
    return [action for action in ActionKind if supported(platform, action)]


def carry_out(
    platform: Platform,
    *,
    action: ActionKind,
    subject_id: str,
    reason: str,
    until: datetime | None,
    territorial_scope: list[str] | None,
) -> ActionResult:
    """One call to the platform. Termination is a suspension without end: the port has no
    deletion, and keeping the account lets an appeal reverse the decision."""
    if action is ActionKind.REMOVE_MESSAGE:
        return platform.remove_message(subject_id, reason=reason)
    if SPECS[action].territorial:
        territories = frozenset(territorial_scope) if territorial_scope else None
        return platform.restrict_message(subject_id, reason=reason, territories=territories, until=until)
    if action is ActionKind.RESTRICT_ACCOUNT:
        return platform.restrict_account(subject_id, reason=reason, until=until)
    if action is ActionKind.SUSPEND_ACCOUNT:
        return platform.suspend_account(subject_id, reason=reason, until=until)
    if action is ActionKind.TERMINATE_ACCOUNT:
        return platform.suspend_account(subject_id, reason=reason, until=None)
    return platform.close_chat(subject_id, reason=reason)


def undo(platform: Platform, *, action: ActionKind, subject_id: str, reason: str) -> ActionResult:
    """Reverse an action through the port. A platform that cannot (Matrix cannot reopen a
    shut-down room) answers ok=False with why, and the caller records it."""
    if action is ActionKind.REMOVE_MESSAGE:
        return platform.restore_message(subject_id, reason=reason)
    if SPECS[action].territorial:
        return platform.lift_message_restriction(subject_id, reason=reason)
    if action in (ActionKind.RESTRICT_ACCOUNT, ActionKind.SUSPEND_ACCOUNT, ActionKind.TERMINATE_ACCOUNT):
        return platform.reinstate_account(subject_id, reason=reason)
    return platform.reopen_chat(subject_id, reason=reason)
