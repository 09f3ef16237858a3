"""The e-Evidence case model: Form 1 becomes an EPOC and Form 2 an EPOC-PR in the legal room's
one lawful-request model (intake, checks, clocks, workflow), and every later message changes
that case. No HTTP and no XML here (wire.py reads it; inbox.py dispatches to these).

Public entry points for the console and the other parts of the channel:
- `create_order`, `record_decision`, `extend_preservation`, `end_preservation`,
  `set_new_deadline`, `request_withdrawal`, `confirm_withdrawal`, `record_delivery_status`,
  `record_correspondence` (inbound effects);
- `releasable_categories(session, *, order, now)`: what may go out now (withdrawal, the
  enforcing State's window and decision); `queue_outcome` refuses anything else;
- `lapse_windows(session, *, clock, actor)`: the job that records a lapsed window;
- `get_order`, `order_for_request`, `tasks_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.blobs import BlobStore
from trustdesk.core.clock import Clock, as_utc
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, authorize
from trustdesk.core.paging import Pager, PageUrgency, page_on_call
from trustdesk.legal import clocks
from trustdesk.legal.eevidence.identities import Identities, WispIdentity
from trustdesk.legal.eevidence.models import EaState, Order, OrderTask, TaskState, Withdrawal
from trustdesk.legal.eevidence.wire import ApprovalRole, Decision, OrderForm, Party
from trustdesk.legal.instruments import ClockRule, IssuerKind, load_catalogue
from trustdesk.legal.intake import Channel, Submission, submit_request
from trustdesk.legal.models import Agency, LawfulRequest, RequestMessage, RequestState
from trustdesk.legal.service import _move
from trustdesk.legal.workflow import ALLOWED, FINAL
from trustdesk.platform.port import Platform

WISP_ACTOR = Actor("system", "wisp")
# The channel files requests for Trustdesk itself, as the emergency lane does.
WISP_PRINCIPAL = Principal(
    kind=PrincipalKind.SYSTEM,
    id=0,
    name="wisp",
    permissions=frozenset({Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE}),
)
# Art. 4: a prosecutor may order subscriber and identification data; traffic and content
# need a judge, a court or an investigating judge. "Other competent authority" needs a
# validating judge or prosecutor, whose role then counts (Art. 4(1)(b), 4(2)(b)).
ROLE_KIND = {
    ApprovalRole.JUDGE: IssuerKind.INVESTIGATING_JUDGE,
    ApprovalRole.PROSECUTOR: IssuerKind.PROSECUTOR,
    ApprovalRole.OTHER: IssuerKind.POLICE,
}
FORM_INSTRUMENT = {"form1": "eu_epoc", "form2": "eu_epoc_pr", "form5": "eu_epoc"}
CALLBACK_SOURCE = "authenticated by the EU decentralised IT system (Reg. 2023/1543 Art. 19): no call-back number"


@dataclass(frozen=True)
class Context:
    """What processing one inbound message needs from the running system."""

    clock: Clock
    platform: Platform
    blobs: BlobStore
    pager: Pager | None = None
    base_url: str = ""
    actor: Actor = WISP_ACTOR
    identities: Identities | None = None


# ------------------------------------------------------------------------------- lookups


def get_order(session: Session, *, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No e-Evidence order {order_id}.")
    return order


def order_for_request(session: Session, *, request_id: int) -> Order | None:
    return session.scalar(select(Order).where(Order.request_id == request_id))


def find_by_authorisation(session: Session, *, identity_id: str, authorisation_id: str) -> Order:
    order = session.scalar(select(Order).where(Order.identity_id == identity_id, Order.authorisation_id == authorisation_id))
    if order is None:
        raise NotFound(f"No order with AuthorisationObject {authorisation_id} was received by this identity.")
    return order


def tasks_of(session: Session, *, order_id: int) -> list[OrderTask]:
    return list(session.scalars(select(OrderTask).where(OrderTask.order_id == order_id).order_by(OrderTask.id)))


def request_of(session: Session, order: Order) -> LawfulRequest:
    request = session.get(LawfulRequest, order.request_id)
    assert request is not None
    return request


def ensure_open(session: Session, order: Order) -> LawfulRequest:
    """A withdrawn or closed order takes nothing more (the withdrawal rule of Art. 19 flows)."""
    request = request_of(session, order)
    if order.withdrawal == Withdrawal.CONFIRMED or RequestState(request.state) in FINAL:
        raise Conflict(f"Order {request.reference} is {request.state}; nothing can be added to it.", reference=request.reference)
    return request


# ------------------------------------------------------------------------------- creation


def _agency(session: Session, *, sender: Party, role: ApprovalRole | None, name: str, now: datetime) -> Agency:
    """The issuing authority as a registered agency, one per sender and role."""
    kind = ROLE_KIND.get(role or ApprovalRole.OTHER, IssuerKind.POLICE)
    slug = re.sub(r"[^a-z0-9]+", "-", sender.unique_id.lower()).strip("-")[:40] or "authority"
    code = f"wisp-{sender.country.lower()}-{slug}-{kind.value.replace('_', '-')}"[:64]
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = Agency(
            code=code,
            name=(name or sender.unique_id)[:200],
            country=sender.country,
            kind=str(kind),
            email_domains=[],
            callback_phone="",
            callback_source=CALLBACK_SOURCE,
            language="en",
            created_at=now,
        )
        session.add(agency)
        session.flush()
    return agency


def create_order(
    session: Session,
    *,
    ctx: Context,
    identity: WispIdentity,
    sender: Party,
    transaction_id: str,
    form: str,
    order: OrderForm,
    linked: Order | None = None,
) -> Order:
    """A new case from Form 1, 2 or 5: a lawful request through the one intake, then the
    channel's row and one row per LDTask. An eight-hour order pages on-call at once."""
    now = ctx.clock.now()
    role = order.validator_role if order.issuer_role is ApprovalRole.OTHER and order.validator_role else order.issuer_role
    agency = _agency(session, sender=sender, role=role, name=order.issuer_name, now=now)
    starts = [t.start for t in order.tasks if t.start]
    ends = [t.end for t in order.tasks if t.end]
    submission = Submission(
        instrument=FORM_INSTRUMENT[form],
        categories=sorted({c for t in order.tasks for c in t.categories}),
        elements=_elements(order, form=form, sender=sender),
        targets=[(None, value) for t in order.tasks for value in t.targets],
        emergency=order.emergency and form != "form2",
        period_start=min(starts) if starts else None,
        period_end=max(ends) if ends else None,
        enforcing_state_notified=order.enforcing_authority_notified and form != "form2",
        language=identity.languages[0],
    )
    request = submit_request(
        session,
        actor=ctx.actor,
        clock=ctx.clock,
        platform=ctx.platform,
        blobs=ctx.blobs,
        principal=WISP_PRINCIPAL,
        submission=submission,
        channel=Channel.WISP,
        agency_id=agency.id,
    )
    row = Order(
        request_id=request.id,
        identity_id=identity.id,
        transaction_id=transaction_id,
        authorisation_id=order.authorisation_id,
        issuer=f"{sender.country}:{sender.unique_id}"[:220],
        form=form,
        priority=order.priority and str(order.priority),
        linked_order_id=linked.id if linked else None,
        ea_state=str(EaState.WINDOW if submission.enforcing_state_notified else EaState.NOT_NOTIFIED),
        ea_window_ends_at=request.objection_ends_at if submission.enforcing_state_notified else None,
        refused_categories=[],
        withdrawal=str(Withdrawal.NONE),
        subsequent_production=False,
        created_at=now,
    )
    session.add(row)
    session.flush()
    for task in order.tasks:
        session.add(
            OrderTask(
                order_id=row.id,
                task_id=task.identifier,
                reference=task.reference[:200],
                categories=sorted(task.categories),
                state=str(TaskState.OPEN),
                deliveries=0,
            )
        )
    if linked is not None:
        linked.subsequent_production = True  # the preserved data stay held while the Form 5 is open
    session.flush()
    _record(
        session,
        ctx,
        row,
        "eevidence.order",
        details={"form": form, "reference": request.reference, "priority": row.priority, "linked_order_id": row.linked_order_id},
    )
    if request.emergency:
        _page(session, ctx, request)
    return row


def _elements(order: OrderForm, *, form: str, sender: Party) -> dict[str, str]:
    elements = {
        "issuing_authority": f"{order.issuer_name or sender.unique_id} ({sender.country})",
        "case_reference": order.reference,
        "offence": order.offence,
    }
    if form != "form2":
        elements["grounds"] = order.grounds
    return {k: v for k, v in elements.items() if v}


def _page(session: Session, ctx: Context, request: LawfulRequest) -> None:
    """EightHours: on-call is paged now, as the emergency lane pages for a threat to life."""
    if ctx.pager is None:
        return
    try:
        page_on_call(
            session,
            pager=ctx.pager,
            actor=ctx.actor,
            urgency=PageUrgency.EMERGENCY,
            subject=f"e-Evidence emergency EPOC {request.reference}: 8 hours"[:200],
            body=f"Open {ctx.base_url}/console/requests/{request.id}",
            object_type="lawful_request",
            object_id=request.id,
            base_url=ctx.base_url,
            clock=ctx.clock,
        )
    except Conflict:
        request.flags = [*request.flags, "nobody_on_call"]


def _record(
    session: Session,
    ctx: Context,
    order: Order,
    action: str,
    *,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        actor=ctx.actor,
        action=action,
        object_type="eevidence_order",
        object_id=order.id,
        reason=reason,
        details={"request_id": order.request_id, "identity": order.identity_id, **(details or {})},
        clock=ctx.clock,
    )


# ------------------------------------------------------------------ the enforcing State


def record_decision(session: Session, *, ctx: Context, order: Order, decision: Decision, refused: frozenset[str]) -> None:
    """Art. 12: the enforcing authority's grounds for refusal. Full: nothing goes out and the
    production clock stops; partial: the named categories do not go out; none: released now."""
    request = ensure_open(session, order)
    if order.ea_state not in (EaState.WINDOW, EaState.PARTIAL, EaState.LAPSED, EaState.NOT_NOTIFIED):
        raise Conflict(f"The enforcing authority already decided ({order.ea_state}) on {request.reference}.")
    now = ctx.clock.now()
    categories = set(request.categories)
    if decision is Decision.FULL:
        order.ea_state, order.refused_categories = str(EaState.FULL), sorted(categories)
        if order.clock_stopped_at is None:
            order.clock_stopped_at, order.paused_due_at, request.due_at = now, request.due_at, None
    elif decision is Decision.PARTIAL:
        unknown = refused - categories
        if unknown:
            raise InvalidInput(
                f"The order does not ask for {', '.join(sorted(unknown))}; it asks for {', '.join(sorted(categories))}."
            )
        order.ea_state, order.refused_categories = str(EaState.PARTIAL), sorted(refused)
    else:
        order.ea_state, order.refused_categories = str(EaState.NO_GROUNDS), []
        request.not_before = None  # Art. 10(2): released before day 10 when the State says so
        _resume(order, request, now=now)
    order.ea_decided_at = now
    _record(
        session,
        ctx,
        order,
        "eevidence.grounds_for_refusal",
        details={"decision": str(decision), "refused": order.refused_categories},
    )


def _resume(order: Order, request: LawfulRequest, *, now: datetime) -> None:
    if order.clock_stopped_at is not None and order.paused_due_at is not None:
        request.due_at = as_utc(order.paused_due_at) + (as_utc(now) - as_utc(order.clock_stopped_at))
    order.clock_stopped_at = order.paused_due_at = None


def lapse_windows(session: Session, *, clock: Clock, actor: Actor = WISP_ACTOR) -> list[Order]:
    """Arts. 8 and 10(2): a window that ended without a (complete) decision lapsed. The record
    says so, never that the State cleared the order; a partial decision keeps its refusals and
    the rest lapses."""
    now, lapsed = clock.now(), []
    due = select(Order).where(
        Order.ea_state.in_([str(EaState.WINDOW), str(EaState.PARTIAL)]),
        Order.ea_lapsed_at.is_(None),
        Order.ea_window_ends_at.is_not(None),
        Order.ea_window_ends_at <= now,
    )
    ctx = Context(clock=clock, platform=None, blobs=None, actor=actor)  # type: ignore[arg-type]
    for order in session.scalars(due):
        order.ea_lapsed_at = now
        if order.ea_state == EaState.WINDOW:
            order.ea_state = str(EaState.LAPSED)
        _record(
            session,
            ctx,
            order,
            "eevidence.ea_window_lapsed",
            reason="The enforcing State's window ended without a decision (Arts. 8, 10(2)): lapsed, not cleared.",
            details={"ea_state": order.ea_state, "refused": order.refused_categories},
        )
        lapsed.append(order)
    session.flush()
    return lapsed


def releasable_categories(session: Session, *, order: Order, now: datetime) -> frozenset[str]:
    """The data categories that may go out now: none while a withdrawal is pending or done,
    or a full refusal holds, or (TenDaysSubjectToEA) before the window ends unless the State
    said NoGroundsForRefusal; never a category the State refused."""
    request = request_of(session, order)
    if (
        order.withdrawal != Withdrawal.NONE
        or order.ea_state == EaState.FULL
        or RequestState(request.state) in FINAL - {RequestState.ANSWERED}
    ):
        return frozenset()
    if request.not_before is not None and as_utc(now) < as_utc(request.not_before) and order.ea_state != EaState.NO_GROUNDS:
        return frozenset()
    return frozenset(request.categories) - set(order.refused_categories)


# ------------------------------------------------------------------ preservation and dates


def extend_preservation(session: Session, *, ctx: Context, order: Order) -> None:
    """Form 6, Art. 11(1): preservation extended by 30 days, once."""
    request = ensure_open(session, order)
    if order.form != "form2":
        raise Conflict(f"{request.reference} is not a preservation order; only an EPOC-PR is extended.")
    try:
        clocks.preservation_expiry(_rule(request), received_at=request.received_at, extensions=request.extensions + 1)
    except ValueError as exc:
        raise Conflict(f"{request.reference}: {exc}.") from None
    request.extensions += 1
    clocks.set_deadlines(request)
    _record(
        session,
        ctx,
        order,
        "eevidence.preservation_extended",
        details={"expires_at": request.expires_at and request.expires_at.isoformat()},
    )


def _rule(request: LawfulRequest) -> ClockRule:
    return load_catalogue().get(request.instrument).clock


def end_preservation(session: Session, *, ctx: Context, order: Order) -> None:
    """The issuing authority ends a preservation (Art. 11(1)). While a Form 5 is open against
    it the preserved data stay held whatever the clock says."""
    request = ensure_open(session, order)
    if order.form != "form2":
        raise Conflict(f"{request.reference} is not a preservation order.")
    now = ctx.clock.now()
    order.preservation_ended_at = now
    if not order.subsequent_production:
        request.expires_at = now
    _record(session, ctx, order, "eevidence.preservation_ended", details={"held_for_form5": order.subsequent_production})


def set_new_deadline(session: Session, *, ctx: Context, order: Order, due_at: datetime) -> None:
    request = ensure_open(session, order)
    if as_utc(due_at) <= ctx.clock.now():
        raise InvalidInput("The new deadline is in the past.")
    before, request.stated_due_at = request.due_at, due_at
    if order.clock_stopped_at is not None:
        order.paused_due_at = due_at
    else:
        request.due_at = due_at
    _record(
        session,
        ctx,
        order,
        "eevidence.new_deadline",
        details={"before": before and before.isoformat(), "due_at": due_at.isoformat()},
    )


# --------------------------------------------------------------------------- withdrawal


def request_withdrawal(session: Session, *, ctx: Context, order: Order) -> None:
    """The issuing authority withdrew: recorded at once, acted on when a person confirms."""
    request = request_of(session, order)
    if order.withdrawal == Withdrawal.CONFIRMED:
        raise Conflict(f"{request.reference} is already withdrawn.")
    if order.withdrawal == Withdrawal.NONE:
        order.withdrawal, order.withdrawal_requested_at = str(Withdrawal.REQUESTED), ctx.clock.now()
    delivered = [t.task_id for t in tasks_of(session, order_id=order.id) if t.state in (TaskState.DELIVERING, TaskState.RECEIVED)]
    _record(session, ctx, order, "eevidence.withdrawal_requested", details={"already_delivered": delivered})


def confirm_withdrawal(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, order_id: int, reason: str
) -> Order:
    """A person confirms a withdrawal: the order's open tasks are cancelled, the case is
    withdrawn (closed when its data had already gone out) and `confirmwithdrawal` is queued
    by the caller (outbox.queue_confirmwithdrawal). Nothing can be added afterwards."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    order = get_order(session, order_id=order_id)
    if order.withdrawal != Withdrawal.REQUESTED:
        raise Conflict("The issuing authority has not withdrawn this order (or it is already confirmed).")
    if not reason.strip():
        raise InvalidInput("Say why the withdrawal is confirmed; it is kept in the record.")
    request = request_of(session, order)
    cancelled = []
    for task in tasks_of(session, order_id=order.id):
        if task.state not in (TaskState.RECEIVED, TaskState.DELIVERING):
            task.state = str(TaskState.CANCELLED)
            cancelled.append(task.task_id)
    state = RequestState(request.state)
    target = RequestState.WITHDRAWN if RequestState.WITHDRAWN in ALLOWED[state] else RequestState.CLOSED
    if target in ALLOWED[state]:
        _move(
            session,
            request=request,
            to_state=target,
            actor=actor,
            clock=clock,
            reason=f"withdrawn by the issuing authority: {reason.strip()}",
        )
    order.withdrawal = str(Withdrawal.CONFIRMED)
    audit.record(
        session,
        actor=actor,
        action="eevidence.withdrawal_confirmed",
        object_type="eevidence_order",
        object_id=order.id,
        reason=reason.strip(),
        details={"request_id": order.request_id, "cancelled_tasks": cancelled, "state": request.state},
        clock=clock,
    )
    return order


# --------------------------------------------------------------- delivery and messages


def record_delivery_status(
    session: Session, *, ctx: Context, identity_id: str, task_id: str, status: str, details: str
) -> OrderTask:
    """The issuing authority acknowledges a delivery per task: Received, or Error (then the
    task can be delivered again)."""
    task = session.scalar(
        select(OrderTask)
        .join(Order, Order.id == OrderTask.order_id)
        .where(Order.identity_id == identity_id, OrderTask.task_id == task_id)
    )
    if task is None:
        raise NotFound(f"No LDTask {task_id} was received by this identity.")
    if task.state == TaskState.CANCELLED:
        raise Conflict(f"LDTask {task_id} was cancelled; it has no delivery to acknowledge.")
    task.state = str(TaskState.RECEIVED if status == "Received" else TaskState.DELIVERY_ERROR)
    task.last_status = f"{status}: {details}"[:500] if details else status
    if status == "Received":
        task.acknowledged_at = ctx.clock.now()
    order = get_order(session, order_id=task.order_id)
    _record(session, ctx, order, "eevidence.delivery_status", details={"task_id": task_id, "status": status})
    return task


def record_correspondence(
    session: Session, *, ctx: Context, order: Order, document_type: str, body: str, author: str
) -> RequestMessage:
    """Formal correspondence from the issuing or enforcing authority, threaded on the case."""
    request = ensure_open(session, order)
    message = RequestMessage(
        request_id=request.id,
        from_authority=True,
        author=author[:200],
        body=f"[{document_type}] {body}".strip()[:10_000],
        sent_at=ctx.clock.now(),
    )
    session.add(message)
    if document_type == "EnforcementProceduresInitiated" and "enforcement_proceedings" not in request.flags:
        request.flags = [*request.flags, "enforcement_proceedings"]
    session.flush()
    _record(session, ctx, order, "eevidence.correspondence", details={"document_type": document_type, "message_id": message.id})
    return message
