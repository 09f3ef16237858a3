"""Decisions on cases: the policy broken (and the law, for illegal content), the action, its
territorial scope and duration, carried out by enforcement; or no action. Bulk decisions
for a network of accounts or chats are previewed first and confirmed by the preview's
digest, so that what is confirmed is exactly what was shown."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.actions import SPECS, ActionKind, SubjectKind
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.reports import service as reports
from trustdesk.safety.reports.models import TrustedFlagger
from trustdesk.safety.review import service as cases
from trustdesk.safety.review.models import OPEN_STATES, Case, CaseOutcome, CaseState, Decision

MAX_BULK = 200


@dataclass(frozen=True)
class Plan:
    """What a decision will do, before it is done."""

    outcome: str
    reason: str
    policy: str | None = None
    action: str | None = None
    legal_ground: str | None = None
    territorial_scope: tuple[str, ...] | None = None
    until: datetime | None = None


def target_of(platform: Platform, case: Case, action: ActionKind) -> tuple[str, str]:
    """The subject the action applies to: a message case may end in its sender's suspension
    or its chat's closure; an account case cannot remove one message."""
    wanted = SPECS[action].subject
    if wanted.value == case.subject_kind:
        return case.subject_kind, case.subject_id
    if case.subject_kind == SubjectKind.MESSAGE:
        try:
            message = platform.get_message(case.subject_id)
        except LookupError:
            raise NotFound(f"The platform no longer has message {case.subject_id}.") from None
        if wanted is SubjectKind.ACCOUNT:
            return "account", message.sender_id
        if wanted is SubjectKind.CHAT:
            return "chat", message.chat_id
    raise InvalidInput(f"{action} cannot be taken on a case about a {case.subject_kind}.", field="action")


def _check_plan(plan: Plan) -> ActionKind | None:
    if plan.outcome not in CaseOutcome.__members__.values():
        raise InvalidInput(f"Outcome is one of: {', '.join(CaseOutcome)}.", field="outcome")
    if not plan.reason.strip():
        raise InvalidInput("Write the reason: the user and the notifier are told it.", field="reason")
    if plan.outcome == CaseOutcome.NO_ACTION:
        return None
    if not plan.action or plan.action not in ActionKind.__members__.values():
        raise InvalidInput(f"Choose the action: {', '.join(ActionKind)}.", field="action")
    load_policies().get(plan.policy or "")
    return ActionKind(plan.action)


def _source_identity(session: Session, case: Case) -> str | None:
    for notice in reports.notices_for_case(session, case_id=case.id):
        if notice.trusted_flagger_id is not None:
            flagger = session.get(TrustedFlagger, notice.trusted_flagger_id)
            return flagger.organisation if flagger else None
    return None


def decide(
    session: Session,
    *,
    principal: Principal,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    case_id: int,
    plan: Plan,
    bulk_ref: str | None = None,
) -> Decision:
    """Decide a case the caller has claimed. A platform refusal leaves the case open, with
    the refusal recorded on the decision's action for the reviewer to see."""
    authorize(principal, Permission.REVIEW_DECIDE)
    case = cases.get_case(session, principal=principal, case_id=case_id)
    if case.state not in OPEN_STATES:
        raise Conflict(f"Case {case_id} was already decided.")
    cases.require_claim(case, principal=principal, now=clock.now())
    kind = _check_plan(plan)
    action = None
    if kind is not None:
        subject_kind, subject_id = target_of(platform, case, kind)
        action = enforcement.take_action(
            session,
            actor=actor,
            clock=clock,
            platform=platform,
            subject_kind=subject_kind,
            subject_id=subject_id,
            action=kind.value,
            policy=plan.policy or "",
            automated=False,
            source=case.source,
            reason=plan.reason,
            rule_ref=case.rule_ref,
            territorial_scope=list(plan.territorial_scope) if plan.territorial_scope else None,
            until=plan.until,
            legal_ground=plan.legal_ground,
            source_identity=_source_identity(session, case),
        )
        action.case_id = case.id
    decision = Decision(
        case_id=case.id,
        decided_by=str(actor),
        decided_at=clock.now(),
        outcome=plan.outcome,
        policy=plan.policy,
        legal_ground=plan.legal_ground,
        action=plan.action if kind else None,
        territorial_scope=list(plan.territorial_scope) if plan.territorial_scope else None,
        until=plan.until,
        reason=plan.reason.strip(),
        action_id=action.id if action else None,
        bulk_ref=bulk_ref,
    )
    session.add(decision)
    session.flush()
    if action is None or action.platform_ok:
        _close(session, case=case, actor=actor, clock=clock, decision=decision)
    return decision


def _close(session: Session, *, case: Case, actor: Actor, clock: Clock, decision: Decision) -> None:
    case.state, case.outcome, case.decided_at = CaseState.DECIDED.value, decision.outcome, clock.now()
    case.claimed_by, case.claim_expires_at = None, None
    if decision.outcome == CaseOutcome.ACTION:
        text = f"We acted on the content you reported ({decision.action.replace('_', ' ') if decision.action else ''})."
    else:
        text = "We reviewed the content you reported and found that it breaks neither the law nor our rules."
    told = reports.tell_notifiers(session, clock=clock, case_id=case.id, outcome=decision.outcome, text=text)
    cases.record_event(
        session,
        case=case,
        actor=actor,
        clock=clock,
        kind="decide",
        outcome=decision.outcome,
        decision_id=decision.id,
        action_id=decision.action_id,
        notifiers_told=told,
        reason=decision.reason,
    )


@dataclass(frozen=True)
class PreviewRow:
    case_id: int
    subject: str
    target: str
    problem: str | None


def _preview_row(session: Session, principal: Principal, platform: Platform, case_id: int, kind: ActionKind | None) -> PreviewRow:
    try:
        case = cases.get_case(session, principal=principal, case_id=case_id)
        if case.state not in OPEN_STATES:
            return PreviewRow(case_id, f"{case.subject_kind}:{case.subject_id}", "-", "already decided")
        target = ":".join(target_of(platform, case, kind)) if kind else "-"
        return PreviewRow(case_id, f"{case.subject_kind}:{case.subject_id}", target, None)
    except TrustdeskError as exc:
        return PreviewRow(case_id, "?", "-", exc.detail)


def bulk_preview(
    session: Session, *, principal: Principal, platform: Platform, case_ids: list[int], plan: Plan, max_cases: int = MAX_BULK
) -> tuple[list[PreviewRow], str]:
    """What a bulk decision would do to each case, and the digest that confirms it. Changes
    nothing. At most `max_cases` cases (the review_bulk_max_cases setting)."""
    authorize(principal, Permission.REVIEW_DECIDE)
    if not case_ids or len(case_ids) > max_cases or len(set(case_ids)) != len(case_ids):
        raise InvalidInput(f"Pick 1 to {max_cases} different cases.", field="case_ids")
    kind = _check_plan(plan)
    rows = [_preview_row(session, principal, platform, case_id, kind) for case_id in case_ids]
    digest = hashlib.sha256(
        json.dumps({"rows": [asdict(r) for r in rows], "plan": asdict(plan)}, default=str, sort_keys=True).encode()
    ).hexdigest()
    return rows, digest


def bulk_decide(
    session: Session,
    *,
    principal: Principal,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    case_ids: list[int],
    plan: Plan,
    confirm: str,
    max_cases: int = MAX_BULK,
) -> list[Decision]:
    """Decide every case of a confirmed preview; refused whole if anything changed since."""
    rows, digest = bulk_preview(
        session, principal=principal, platform=platform, case_ids=case_ids, plan=plan, max_cases=max_cases
    )
    if confirm != digest:
        raise Conflict("The cases changed since the preview; preview again and confirm what you see.")
    blocked = [r for r in rows if r.problem]
    if blocked:
        raise Conflict(
            f"{len(blocked)} of the cases cannot be decided: " + "; ".join(f"case {r.case_id}: {r.problem}" for r in blocked)
        )
    ref = uuid.uuid4().hex
    decisions = []
    for case_id in case_ids:
        cases.claim(session, principal=principal, actor=actor, clock=clock, case_id=case_id)
        decisions.append(
            decide(
                session,
                principal=principal,
                actor=actor,
                clock=clock,
                platform=platform,
                case_id=case_id,
                plan=plan,
                bulk_ref=ref,
            )
        )
    return decisions
