"""Appeals, the internal complaint-handling of Art. 20 DSA: open for six months after the
user was told, free, decided by a person other than the one who took the decision, and
when upheld the action is reversed through the platform port."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.review.models import Appeal, AppealOutcome, AppealState
from trustdesk.safety.review.service import visible_queues

APPEALS_QUEUE = "appeals"
MAX_TEXT = 5000


def file_appeal(session: Session, *, clock: Clock, token: str, text: str) -> Appeal:
    """The user's complaint, from the link in their statement of reasons."""
    statement = enforcement.statement_by_token(session, token=token)
    action = statement.action
    if clock.now() > statement.appeal_until:
        raise Conflict(
            f"The time to appeal ended on {statement.appeal_until:%Y-%m-%d}. You can still go to an out-of-court settlement body or a court."
        )
    if action.reversed_at is not None:
        raise Conflict("This decision has already been reversed; there is nothing to appeal.")
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"Tell us in up to {MAX_TEXT} characters why the decision is wrong.", field="text")
    if session.scalars(select(Appeal).where(Appeal.statement_id == statement.id, Appeal.state == AppealState.OPEN)).first():
        raise Conflict("Your appeal against this decision is already being reviewed.")
    appeal = Appeal(
        statement_id=statement.id,
        action_id=action.id,
        queue=APPEALS_QUEUE,
        filed_at=clock.now(),
        text=text.strip(),
        state=AppealState.OPEN.value,
        first_reviewer=action.actor,
    )
    session.add(appeal)
    session.flush()
    record(
        session,
        actor=Actor("user", action.account_id or "unknown"),
        clock=clock,
        action="appeal.file",
        object_type="appeal",
        object_id=appeal.id,
        details={"action_id": action.id, "statement_id": statement.id},
    )
    return appeal


def _visible(session: Session, principal: Principal) -> bool:
    queues = visible_queues(session, principal=principal)
    return queues is None or APPEALS_QUEUE in queues


def list_appeals(session: Session, *, principal: Principal, state: str = AppealState.OPEN.value) -> list[Appeal]:
    authorize(principal, Permission.REVIEW_DECIDE)
    if not _visible(session, principal):
        return []
    return list(session.scalars(select(Appeal).where(Appeal.state == state).order_by(Appeal.filed_at, Appeal.id)))


def get_appeal(session: Session, *, principal: Principal, appeal_id: int) -> Appeal:
    authorize(principal, Permission.REVIEW_DECIDE)
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or not _visible(session, principal):
        raise NotFound(f"No appeal {appeal_id} in your queues.")
    return appeal


def decide_appeal(
    session: Session,
    *,
    principal: Principal,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    appeal_id: int,
    outcome: str,
    reason: str,
) -> Appeal:
    """Reverse the action, or confirm it. The person who took the decision may not judge it."""
    appeal = get_appeal(session, principal=principal, appeal_id=appeal_id)
    if appeal.state != AppealState.OPEN:
        raise Conflict(f"Appeal {appeal_id} was already decided: {appeal.outcome}.")
    if str(actor) == appeal.first_reviewer:
        raise Forbidden("You took the decision under appeal; another reviewer must decide the appeal (Art. 20(6) DSA).")
    if outcome not in AppealOutcome.__members__.values():
        raise InvalidInput(f"Outcome is one of: {', '.join(AppealOutcome)}.", field="outcome")
    if not reason.strip():
        raise InvalidInput("Write the reason: the user is told it.", field="reason")
    if outcome == AppealOutcome.REVERSED:
        enforcement.reverse_action(
            session,
            actor=actor,
            clock=clock,
            platform=platform,
            action_id=appeal.action_id,
            reason=f"Appeal upheld: {reason.strip()}",
        )
    appeal.state, appeal.outcome, appeal.decision_reason = AppealState.DECIDED.value, outcome, reason.strip()
    appeal.decided_by, appeal.decided_at = str(actor), clock.now()
    record(
        session,
        actor=actor,
        clock=clock,
        action="appeal.decide",
        object_type="appeal",
        object_id=appeal.id,
        reason=reason.strip(),
        details={"outcome": outcome, "action_id": appeal.action_id},
    )
    return appeal


def appeals_for_statement(session: Session, *, statement_id: int) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(Appeal.statement_id == statement_id).order_by(Appeal.filed_at)))
