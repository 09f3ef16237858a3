"""Trustdesk's own checks of a statement of reasons against what happened, on top of the DSA
database's rules (`dsa.validate_statement`): a statement the database would take can still
say what is not so, and the database publishes it for anyone to find (one platform's
"automated" flag was inverted for years; another's trusted-flagger notices went unlabelled).

What a statement is held against (`Happened`) is read from our own records, not from the
statement: the enforcement action (who or what decided, its source, scope, end, policy and
date), the review case it decided and the notices on that case (a trusted flagger's notice).
`check` answers field -> messages, as the database does, empty when the statement is true to
the record. The submitter holds back a statement that fails (state `held`, for a person to
fix, as a rejection is); the self-audit (`dsa_submission.self_audit`) runs the same checks
over what was already submitted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.errors import NotFound
from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.safety.enforcement.actions import END_DATE_FIELD, SPECS, ActionKind, Source
from trustdesk.safety.enforcement.dsa import END_DATES, Errors
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.enforcement.policies import PolicyBook, load_policies
from trustdesk.safety.enforcement.statements import SOURCE_TYPE
from trustdesk.safety.reports.models import Notice, TrustedFlagger
from trustdesk.safety.review.models import Case

AUTOMATED_SOURCES = frozenset({Source.RULE, Source.HASH_MATCH})
# The columns of an enforcement action the checks read: what the outbox selects, and no more.
CHECKED_COLUMNS = (
    "id",
    "action",
    "policy",
    "decision_ground",
    "automated",
    "source",
    "rule_ref",
    "territorial_scope",
    "until",
    "case_id",
    "actor",
    "acted_at",
)


@dataclass(frozen=True)
class Happened:
    """What our records say about the decision a statement describes."""

    action: EnforcementAction  # or a row with its columns
    trusted_flagger: str | None = None  # the organisation whose notice led to the case, if any
    notices: int = 0  # notices on the case


def happened_for(session: Session, actions: Iterable[Any]) -> dict[int, Happened]:
    """action id -> Happened, with two queries for any number of actions (the cases' notices
    and their trusted flaggers). An action is an `EnforcementAction` or a row with its
    columns (the outbox reads them without ORM objects)."""
    actions = list(actions)
    case_ids = {a.case_id for a in actions if a.case_id is not None}
    flagged: dict[int, str] = {}
    notices: dict[int, int] = {}
    flagged_cases: set[int] = set()
    if case_ids:
        query = (
            select(Notice.case_id, TrustedFlagger.organisation)
            .outerjoin(TrustedFlagger, TrustedFlagger.id == Notice.trusted_flagger_id)
            .where(Notice.case_id.in_(case_ids))
        )
        for case_id, organisation in session.execute(query):
            if case_id is None:
                continue
            notices[case_id] = notices.get(case_id, 0) + 1
            if organisation is not None:
                flagged.setdefault(case_id, organisation)
        flagged_cases = set(session.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.trusted_flagger.is_(True))))
    found = {}
    for action in actions:
        case_id = action.case_id
        if case_id is None:
            found[action.id] = Happened(action)
            continue
        flagger = flagged.get(case_id)
        if flagger is None and case_id in flagged_cases:
            flagger = "(organisation not recorded)"
        found[action.id] = Happened(action, flagger, notices.get(case_id, 0))
    return found


def expected_source_type(happened: Happened) -> str:
    source = Source(happened.action.source)
    if happened.trusted_flagger is not None and source in (Source.NOTICE, Source.TRUSTED_FLAGGER):
        return "SOURCE_TRUSTED_FLAGGER"
    return SOURCE_TYPE[source]


def expected_automation(action: EnforcementAction) -> tuple[str, str]:
    """(automated_detection, automated_decision) as the action's own record says they were:
    detection by a rule or a hash match, decision by no person."""
    detected = action.automated or Source(action.source) in AUTOMATED_SOURCES
    if action.automated:
        decision = "AUTOMATED_DECISION_FULLY"
    else:
        decision = "AUTOMATED_DECISION_PARTIALLY" if detected else "AUTOMATED_DECISION_NOT_AUTOMATED"
    return ("Yes" if detected else "No"), decision


def check(payload: dict[str, Any], happened: Happened, *, book: PolicyBook | None = None) -> Errors:
    """Field -> messages where the statement says other than our records; empty when true."""
    errors: Errors = {}
    action = happened.action
    for rule in (_automation, _source, _scope, _dates, _decision):
        rule(payload, happened, errors)
    _category(payload, action, book or load_policies(), errors)
    return errors


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _automation(payload: dict[str, Any], happened: Happened, errors: Errors) -> None:
    action = happened.action
    detection, decision = expected_automation(action)
    detection_wrong = payload.get("automated_detection") != detection
    decision_wrong = payload.get("automated_decision") != decision
    if not (detection_wrong or decision_wrong):
        return  # the messages are written only for a statement that fails
    how = f"action {action.id} was {'decided by no person' if action.automated else 'decided by ' + action.actor}"
    origin = f"found through {action.source}" + (f" ({action.rule_ref})" if action.rule_ref else "")
    if detection_wrong:
        _add(errors, "automated_detection", f"Says {payload.get('automated_detection')!r}, but {how}, {origin}: {detection!r}.")
    if decision_wrong:
        _add(errors, "automated_decision", f"Says {payload.get('automated_decision')!r}, but {how}: {decision}.")


def _source(payload: dict[str, Any], happened: Happened, errors: Errors) -> None:
    expected = expected_source_type(happened)
    given = payload.get("source_type")
    if given == expected:
        return
    if expected == "SOURCE_TRUSTED_FLAGGER":
        why = f"the case came from a notice of the trusted flagger {happened.trusted_flagger}"
    else:
        why = f"the decision came from {happened.action.source}"
    _add(errors, "source_type", f"Says {given!r}, but {why}: {expected}.")


def _scope(payload: dict[str, Any], happened: Happened, errors: Errors) -> None:
    restricted = happened.action.territorial_scope
    given = payload.get("territorial_scope")
    expected = sorted(restricted) if restricted else _everywhere()
    if given is None and not restricted:
        return
    if not isinstance(given, list) or sorted(given) != expected:
        where = f"only in {', '.join(expected)}" if restricted else "everywhere (the whole EU/EEA)"
        _add(errors, "territorial_scope", f"Says {given!r}, but the restriction applies {where}.")


@cache
def _everywhere() -> list[str]:
    """The whole EU/EEA, sorted, as an unrestricted statement lists it."""
    return sorted(eea_countries())


def _dates(payload: dict[str, Any], happened: Happened, errors: Errors) -> None:
    action = happened.action
    applied = action.acted_at.date().isoformat()
    if payload.get("application_date") != applied:
        _add(errors, "application_date", f"Says {payload.get('application_date')!r}, but the action was taken on {applied}.")
    content = payload.get("content_date")
    if isinstance(content, str) and content > applied:
        _add(errors, "content_date", f"Says {content}, after the decision of {applied}.")
    field = END_DATE_FIELD.get(ActionKind(action.action)) if action.until is not None else None
    for name in END_DATES:
        given = payload.get(name)
        if name == field:
            assert action.until is not None
            until = action.until.date().isoformat()
            if given != until:
                _add(errors, name, f"Says {given!r}, but the restriction ends on {until}.")
        elif given is not None:
            _add(errors, name, f"Says {given!r}, but the restriction has no such end.")
        if isinstance(given, str) and given < applied:
            _add(errors, name, f"Ends on {given}, before the decision of {applied}.")


def _decision(payload: dict[str, Any], happened: Happened, errors: Errors) -> None:
    action = happened.action
    for name, value in SPECS[ActionKind(action.action)].dsa.items():
        if payload.get(name) != value:
            _add(errors, name, f"Says {payload.get(name)!r}, but the action was {action.action}: {value!r}.")
    if payload.get("decision_ground") != action.decision_ground:
        _add(
            errors, "decision_ground", f"Says {payload.get('decision_ground')!r}, but the decision was {action.decision_ground}."
        )


def _category(payload: dict[str, Any], action: EnforcementAction, book: PolicyBook, errors: Errors) -> None:
    try:
        policy = book.get(action.policy)
    except NotFound:
        _add(errors, "category", f"The policy {action.policy!r} of action {action.id} is not in the policy book.")
        return
    if payload.get("category") != policy.category:
        _add(errors, "category", f"Says {payload.get('category')!r}, but the policy broken ({policy.key}) is {policy.category}.")
    keywords = payload.get("category_specification") or []
    stray = sorted(set(keywords) - set(policy.keywords)) if isinstance(keywords, list) else [str(keywords)]
    if stray:
        _add(errors, "category_specification", f"{', '.join(stray)} not among the keywords of the policy {policy.key}.")
    if payload.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        illegal = "Yes" if policy.illegal else "No"
        if payload.get("incompatible_content_illegal") != illegal:
            _add(
                errors,
                "incompatible_content_illegal",
                f"Says {payload.get('incompatible_content_illegal')!r}, but the policy {policy.key} says {illegal!r}.",
            )
