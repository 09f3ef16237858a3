"""Enforcement: carry out a decision on the platform, record what the platform answered, tell
the user why (statement of reasons), count the strike, and undo it all after an appeal.

Everything that can be checked is checked before the platform is called, so that bad input
changes nothing anywhere; the platform's answer, good or bad, is always recorded."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.platform.port import ActionResult, Platform, PlatformError
from trustdesk.safety.automation import service as automation
from trustdesk.safety.automation.service import Decider
from trustdesk.safety.enforcement import cybertipline, strikes
from trustdesk.safety.enforcement.actions import SPECS, ActionKind, Source, SubjectKind, carry_out, supported, undo
from trustdesk.safety.enforcement.dsa import MAX_EXPLANATION, MAX_SHORT, validate_statement
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.enforcement.statements import Facts, Subject, dsa_payload, language_for, user_facts
from trustdesk.safety.enforcement.subjects import describe

APPEAL_WINDOW = timedelta(days=183)  # Art. 20(1) DSA: at least six months after the user was told


@dataclass(frozen=True)
class Request:
    action: ActionKind
    facts: Facts
    rule_ref: str | None
    caused_by: int | None = None
    deciders: tuple[Decider, ...] = ()  # who decided an automated action; inferred from rule_ref when empty
    ruleset_version: str | None = None


_Kind = TypeVar("_Kind", bound=StrEnum)


def _enum(kind: type[_Kind], value: str, field: str) -> _Kind:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"Unknown {field} '{value}'. Valid: {', '.join(m.value for m in kind)}.", field=field) from None


def _check_scope(scope: list[str] | None, action: ActionKind) -> list[str] | None:
    if scope is not None:
        scope = sorted({code.strip().upper() for code in scope})
        unknown = [code for code in scope if code not in eea_countries()]
        if unknown or not scope:
            raise InvalidInput(
                f"Territorial scope must be EU/EEA country codes; not valid: {', '.join(unknown) or '(empty)'}.",
                field="territorial_scope",
            )
    if action is ActionKind.GEO_RESTRICT and not scope:
        raise InvalidInput("A geographic restriction needs the countries it applies in.", field="territorial_scope")
    if scope and not SPECS[action].territorial:
        raise InvalidInput(
            f"A {action.replace('_', ' ')} applies everywhere; only restricting visibility or a geographic "
            "restriction can be limited to some countries.",
            field="territorial_scope",
        )
    return scope


def _check_until(until: datetime | None, action: ActionKind, now: datetime) -> None:
    if until is None:
        return
    if not SPECS[action].timed:
        raise InvalidInput(f"{action} has no end date; leave 'until' empty.", field="until")
    if until.tzinfo is None or until <= now:
        raise InvalidInput("'until' must be a time in the future, with its time zone.", field="until")


def _check_text(reason: str, legal_ground: str | None) -> None:
    if not reason.strip():
        raise InvalidInput("Explain the decision: the user is told this reason.", field="reason")
    if len(reason) > MAX_EXPLANATION:
        raise InvalidInput(f"The reason is longer than {MAX_EXPLANATION} characters.", field="reason")
    if legal_ground is not None and (not legal_ground.strip() or len(legal_ground) > MAX_SHORT):
        raise InvalidInput(f"The legal ground must name the law in 1 to {MAX_SHORT} characters.", field="legal_ground")


def take_action(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    subject_kind: str,
    subject_id: str,
    action: str,
    policy: str,
    automated: bool,
    source: str,
    reason: str,
    rule_ref: str | None = None,
    territorial_scope: list[str] | None = None,
    until: datetime | None = None,
    legal_ground: str | None = None,
    source_identity: str | None = None,
    deciders: Sequence[Decider] = (),
    ruleset_version: str | None = None,
) -> EnforcementAction:
    """Act on the platform for one decision. Returns the recorded action; `platform_ok` says
    whether the platform did it (a refusal is recorded, not raised). An automated action
    records who decided it (`deciders`: the rule, model or bank versions; inferred from
    `rule_ref` when not given) and the policy version (trustdesk.safety.automation)."""
    kind, act = _enum(SubjectKind, subject_kind, "subject_kind"), _enum(ActionKind, action, "action")
    if SPECS[act].subject is not kind:
        raise InvalidInput(f"{act} acts on a {SPECS[act].subject}, not a {kind}.", field="action")
    if not supported(platform, act):
        raise InvalidInput(f"The {platform.name} platform cannot {act.replace('_', ' ')}; choose another action.", field="action")
    book, now = load_policies(), clock.now()
    _check_text(reason, legal_ground)
    _check_until(until, act, now)
    subject, skewed_from = clamp_content_date(describe(platform, kind, subject_id), now)
    facts = Facts(
        action=act,
        policy=book.get(policy),
        book=book,
        subject=subject,
        source=_enum(Source, source, "source"),
        automated=automated,
        reason=reason.strip(),
        legal_ground=legal_ground.strip() if legal_ground else None,
        territorial_scope=_check_scope(territorial_scope, act),
        until=until,
        acted_on=now.date(),
        source_identity=source_identity,
    )
    request = Request(act, facts, rule_ref, deciders=tuple(deciders), ruleset_version=ruleset_version)
    row = _act(session, actor=actor, clock=clock, platform=platform, request=request)
    if skewed_from is not None:
        record(
            session,
            actor=actor,
            action="enforcement.clock_skew",
            object_type="enforcement_action",
            object_id=row.id,
            reason=f"the content is dated {skewed_from.isoformat()}, after Trustdesk's clock ({now.date().isoformat()}): "
            "the statement of reasons gives the day of the decision as the content date",
            details={"content_date": skewed_from.isoformat(), "clamped_to": now.date().isoformat()},
            clock=clock,
        )
    return row


def clamp_content_date(subject: Subject, now: datetime) -> tuple[Subject, date | None]:
    """Clock skew: a platform whose clock runs ahead of Trustdesk's can date content after
    the decision. The DSA database refuses a content date after the application date, so the
    statement gives the decision's own day instead; the original date is returned so that the
    caller records it (it is never silently dropped)."""
    if subject.content_date <= now.date():
        return subject, None
    return replace(subject, content_date=now.date()), subject.content_date


def _act(session: Session, *, actor: Actor, clock: Clock, platform: Platform, request: Request) -> EnforcementAction:
    puid = f"td-{uuid.uuid4().hex}"
    payload = dsa_payload(request.facts, puid=puid)
    problems = validate_statement(payload)
    if problems:  # our own bug: never act without a statement the database will take
        raise RuntimeError(f"statement for {request.action} would be rejected: {problems}")
    result = _call_platform(platform, request)
    row = _record_action(session, actor=actor, clock=clock, request=request, result=result)
    if result.ok:
        _statement(session, clock=clock, row=row, request=request, puid=puid, payload=payload)
        _after_effects(session, actor=actor, clock=clock, platform=platform, row=row, request=request)
    return row


def _call_platform(platform: Platform, request: Request) -> ActionResult:
    f = request.facts
    try:
        return carry_out(
            platform,
            action=request.action,
            subject_id=f.subject.id,
            reason=f.reason[:500],
            until=f.until,
            territorial_scope=f.territorial_scope,
        )
    except (PlatformError, ValueError) as exc:
        return ActionResult(ok=False, detail=f"the platform refused: {exc}")


def _record_action(session: Session, *, actor: Actor, clock: Clock, request: Request, result: ActionResult) -> EnforcementAction:
    f = request.facts
    row = EnforcementAction(
        subject_kind=f.subject.kind,
        subject_id=f.subject.id,
        account_id=f.subject.account_id,
        action=request.action.value,
        policy=f.policy.key,
        policy_version=f.book.version,
        decision_ground="DECISION_GROUND_ILLEGAL_CONTENT" if f.legal_ground else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        legal_ground=f.legal_ground,
        automated=f.automated,
        source=f.source.value,
        reason=f.reason,
        rule_ref=request.rule_ref,
        territorial_scope=f.territorial_scope,
        until=f.until,
        caused_by_id=request.caused_by,
        actor=str(actor),
        acted_at=clock.now(),
        platform_ok=result.ok,
        platform_detail=result.detail,
        platform_ref=result.platform_ref,
    )
    session.add(row)
    session.flush()
    deciders: list[dict[str, str]] = []
    if f.automated:
        who = request.deciders or tuple(automation.inferred(request.rule_ref, f.source.value, f.book.version))
        decision = automation.record_decision(
            session,
            action_id=row.id,
            deciders=who,
            policy=row.policy,
            policy_version=f.book.version,
            ruleset_version=request.ruleset_version,
            at=row.acted_at,
        )
        deciders = decision.deciders
    record(
        session,
        actor=actor,
        clock=clock,
        action="enforcement.act" if result.ok else "enforcement.refused",
        object_type="enforcement_action",
        object_id=row.id,
        reason=f.reason,
        policy_version=f.book.version,
        details={
            "action": row.action,
            "subject": f"{row.subject_kind}:{row.subject_id}",
            "policy": row.policy,
            "platform_ok": result.ok,
            "platform_ref": result.platform_ref,
        }
        | ({"deciders": deciders} if deciders else {}),
    )
    return row


def _statement(session: Session, *, clock: Clock, row: EnforcementAction, request: Request, puid: str, payload: dict) -> None:
    now = clock.now()
    appeal_until = now + APPEAL_WINDOW
    session.add(
        StatementOfReasons(
            action_id=row.id,
            puid=puid,
            account_id=row.account_id,
            language=language_for(request.facts.subject.country),
            token=secrets.token_urlsafe(24),
            facts=user_facts(request.facts, appeal_until=appeal_until, puid=puid),
            payload=payload,
            told_at=now,
            appeal_until=appeal_until,
            dsa_state="pending",
            dsa_attempts=0,
        )
    )
    session.flush()


def _after_effects(
    session: Session, *, actor: Actor, clock: Clock, platform: Platform, row: EnforcementAction, request: Request
) -> None:
    """Strikes (not for a restriction that strikes themselves caused), the threshold they may
    cross, and a CyberTipline draft for apparent child sexual exploitation."""
    policy = request.facts.policy
    if policy.cybertipline and row.account_id:
        cybertipline.draft_for(session, actor=actor, clock=clock, platform=platform, action=row)
    if request.caused_by is not None or not row.account_id or policy.strike_weight == 0:
        return
    crossed = strikes.issue(session, actor=actor, clock=clock, action=row, policy=policy)
    if crossed is not None:
        _threshold_action(session, actor=actor, clock=clock, platform=platform, row=row, request=request, threshold=crossed)


def _threshold_action(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    row: EnforcementAction,
    request: Request,
    threshold: strikes.StrikeThreshold,
) -> None:
    account = describe(platform, SubjectKind.ACCOUNT, row.account_id or "")
    until = None if threshold.days is None else clock.now() + timedelta(days=threshold.days)
    reason = (
        f"Your account reached {threshold.points} strike points for breaking our rules; "
        f"the latest was: {request.facts.policy.title}."
    )
    facts = replace(  # the restriction's own action: its statement must describe it, not the one that led to it
        request.facts,
        action=threshold.action,
        subject=account,
        source=Source.OWN_INITIATIVE,
        automated=True,
        reason=reason,
        legal_ground=None,
        territorial_scope=None,
        until=until,
    )
    _act(
        session,
        actor=actor,
        clock=clock,
        platform=platform,
        request=Request(threshold.action, facts, f"strike-threshold:{threshold.points}", caused_by=row.id),
    )


def get_action(session: Session, *, action_id: int) -> EnforcementAction:
    row = session.get(EnforcementAction, action_id)
    if row is None:
        raise NotFound(f"No enforcement action {action_id}.")
    return row


def reverse_action(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    action_id: int,
    reason: str,
) -> EnforcementAction:
    """Undo an action after a successful appeal: restore through the port, void its strikes,
    correct the statement, and undo the restrictions its strikes caused."""
    row = get_action(session, action_id=action_id)
    if row.reversed_at is not None:
        raise Conflict(f"Action {row.id} was already reversed on {row.reversed_at:%Y-%m-%d}.")
    if not row.platform_ok:
        raise Conflict(f"Action {row.id} never took effect on the platform; there is nothing to reverse.")
    if not reason.strip():
        raise InvalidInput("Say why the action is reversed.", field="reason")
    _reverse(session, actor=actor, clock=clock, platform=platform, row=row, reason=reason.strip())
    return row


def _reverse(session: Session, *, actor: Actor, clock: Clock, platform: Platform, row: EnforcementAction, reason: str) -> None:
    try:
        result = undo(platform, action=ActionKind(row.action), subject_id=row.subject_id, reason=reason[:500])
    except (PlatformError, LookupError, ValueError) as exc:
        result = ActionResult(ok=False, detail=f"the platform refused: {exc}")
    now = clock.now()
    row.reversed_at, row.reversed_by, row.reversal_reason = now, str(actor), reason
    row.reversal_ok, row.reversal_detail = result.ok, result.detail
    strikes.void_for(session, action_id=row.id, now=now, reason=reason)
    if row.statement is not None:
        row.statement.corrected_at, row.statement.correction = now, f"On {now:%Y-%m-%d} this decision was reversed: {reason}"
    record(
        session,
        actor=actor,
        clock=clock,
        action="enforcement.reverse",
        object_type="enforcement_action",
        object_id=row.id,
        reason=reason,
        details={"platform_ok": result.ok, "platform_ref": result.platform_ref},
    )
    for follower in session.scalars(select(EnforcementAction).where(EnforcementAction.caused_by_id == row.id)):
        if follower.reversed_at is None and follower.platform_ok:
            _reverse(
                session,
                actor=actor,
                clock=clock,
                platform=platform,
                row=follower,
                reason=f"The decision that led to this restriction (action {row.id}) was reversed.",
            )


def actions_for_account(session: Session, *, account_id: str) -> list[EnforcementAction]:
    """Every action on the account or on its content, newest first: the account's history."""
    query = select(EnforcementAction).where(EnforcementAction.account_id == account_id)
    return list(session.scalars(query.order_by(EnforcementAction.acted_at.desc(), EnforcementAction.id.desc())))


def statement_by_token(session: Session, *, token: str) -> StatementOfReasons:
    row = session.scalars(select(StatementOfReasons).where(StatementOfReasons.token == token)).first()
    if row is None:
        raise NotFound("No statement with this link; check that you copied all of it.")
    return row
