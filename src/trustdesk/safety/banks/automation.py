"""Automatic removal when retroaction finds content already posted.

Only where the automation policy (`safety/rules/data/automation.toml`, the same allow-list
the rules are checked against) allows `remove_message` for the bank: its name is listed
under the bank's policy and the match is within the allowance's distance. Everything else
only goes to review. Never automatic: an entry the flood guard paused (a bad entry must
not take down thousands of posts), a message already acted on (a person may have restored
it after an appeal), media whose message is not known. Each removal goes through
enforcement (statement of reasons, strikes, automated = true) and is noted on the review
case, where a person confirms or reverses it: DSA Art. 20(6), decisions are not left
solely to a machine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.safety.banks.models import Bank, BankEntry, HashMatch, MediaHash
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.actions import ActionKind, Source
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Case
from trustdesk.safety.rules.policy import Allowance, automation_policy

USER_REASON = (
    "This message carried an image that matches an entry of a verified list of known illegal content. "
    "The match was found automatically when the list was updated; a person reviews it."
)


@dataclass(frozen=True)
class Outcome:
    """What happened to one matched media item: removed, or why not."""

    media_id: str
    message_id: str | None
    action_id: int | None
    removed: bool
    note: str


def allowance_for(bank: Bank, *, distance: int) -> Allowance | None:
    """The automation policy's allowance for removing what this bank matched, if any."""
    allowance = automation_policy().find(ActionKind.REMOVE_MESSAGE.value, bank.policy or "")
    if allowance is None or bank.name not in allowance.banks or distance > allowance.max_distance:
        return None
    return allowance


def remove_matched(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    bank: Bank,
    media: MediaHash,
    entry: BankEntry,
    match: HashMatch,
) -> Outcome | None:
    """Remove the message carrying `media` when policy allows it; None when the bank may
    not act automatically (the case stays with a person alone)."""
    if allowance_for(bank, distance=match.distance) is None:
        return None
    outcome = _outcome(session, actor=actor, clock=clock, platform=platform, bank=bank, media=media, entry=entry, match=match)
    _annotate(session, actor=actor, clock=clock, case_id=match.case_id, outcome=outcome)
    return outcome


def _outcome(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    bank: Bank,
    media: MediaHash,
    entry: BankEntry,
    match: HashMatch,
) -> Outcome:
    if match.action_paused or entry.flood_paused_at is not None:
        return Outcome(media.media_id, None, None, False, "not removed: the flood guard paused automatic action for this entry")
    if media.platform != platform.name:
        return Outcome(
            media.media_id, None, None, False, f"not removed: the media is on '{media.platform}', not '{platform.name}'"
        )
    message_id = media.message_id or _message_of(platform, media.media_id)
    if message_id is None:
        return Outcome(media.media_id, None, None, False, "not removed: no message carrying this media is known")
    if _acted_on(session, message_id=message_id):
        return Outcome(media.media_id, message_id, None, False, "not removed: the message was acted on before")
    return _remove(
        session, actor=actor, clock=clock, platform=platform, bank=bank, media=media, entry=entry, message_id=message_id
    )


def _remove(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    bank: Bank,
    media: MediaHash,
    entry: BankEntry,
    message_id: str,
) -> Outcome:
    try:
        with session.begin_nested():
            action = enforcement.take_action(
                session,
                actor=actor,
                clock=clock,
                platform=platform,
                subject_kind="message",
                subject_id=message_id,
                action=ActionKind.REMOVE_MESSAGE.value,
                policy=bank.policy or "",
                automated=True,
                source=Source.HASH_MATCH.value,
                reason=USER_REASON,
                rule_ref=f"bank:{bank.id}/entry:{entry.id}",
            )
    except (NotFound, InvalidInput, Conflict, PlatformError, LookupError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        return Outcome(media.media_id, message_id, None, False, f"not removed: {detail}"[:500])
    note = "removed automatically" if action.platform_ok else f"the platform refused: {action.platform_detail}"
    return Outcome(media.media_id, message_id, action.id, bool(action.platform_ok), note[:500])


def _message_of(platform: Platform, media_id: str) -> str | None:
    try:
        item, _ = platform.get_media(media_id)
    except (LookupError, PlatformError, ValueError):
        return None
    return item.message_id


def _acted_on(session: Session, *, message_id: str) -> bool:
    """Any earlier removal, even one reversed after an appeal, keeps the machine's hands off."""
    query = select(EnforcementAction.id).where(
        EnforcementAction.subject_kind == "message",
        EnforcementAction.subject_id == message_id,
        EnforcementAction.action == ActionKind.REMOVE_MESSAGE.value,
        EnforcementAction.platform_ok.is_(True),
    )
    return session.scalar(query.limit(1)) is not None


def _annotate(session: Session, *, actor: Actor, clock: Clock, case_id: int | None, outcome: Outcome) -> None:
    """The case tells its reviewer what the machine did, to confirm or reverse it."""
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None:
        return
    case.signals = {
        **case.signals,
        "automatic_removal": {
            "message_id": outcome.message_id,
            "action_id": outcome.action_id,
            "removed": outcome.removed,
            "note": outcome.note,
        },
    }
    review.record_event(
        session,
        case=case,
        actor=actor,
        clock=clock,
        kind="automatic_removal",
        message_id=outcome.message_id,
        action_id=outcome.action_id,
        removed=outcome.removed,
        note=outcome.note,
    )
    session.flush()
