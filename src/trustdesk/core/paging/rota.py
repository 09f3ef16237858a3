"""The rota and escalation. The rota is the staff holding the on-call role, in order; a page
goes to the first person, and when nobody acknowledges within `escalate_after`, `escalate_due`
pages the next one, going round the rota `max_rounds` times before marking the page
unanswered. Every page, escalation and acknowledgement is a row and an audit entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging.models import LIVE_STATES, Page, PageDelivery, PageState, PageUrgency
from trustdesk.core.paging.port import PageMessage, Pager, PagingFailed, Recipient

DEFAULT_ESCALATE_AFTER = timedelta(minutes=5)
DEFAULT_MAX_ROUNDS = 3


def on_call_rota(session: Session) -> list[Recipient]:
    """Active staff holding the on-call role, in the order they were added (first = primary)."""
    staff = session.scalars(select(StaffUser).where(StaffUser.disabled_at.is_(None)).order_by(StaffUser.id))
    return [Recipient(username=s.username, display_name=s.display_name, email=s.email) for s in staff if Role.ON_CALL in s.roles]


def page_on_call(
    session: Session,
    *,
    pager: Pager,
    actor: Actor,
    urgency: PageUrgency,
    subject: str,
    body: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    base_url: str = "",
    clock: Clock | None = None,
) -> Page:
    """Open a page and send it to the first person on the rota."""
    if not subject.strip() or len(subject) > 200:
        raise InvalidInput("A page needs a subject of 1 to 200 characters.")
    if escalate_after <= timedelta(0) or max_rounds < 1:
        raise InvalidInput("escalate_after must be positive and max_rounds at least 1.")
    repeat = live_page_for(session, object_type=object_type, object_id=object_id)
    if repeat is not None:  # one page per subject: the person already paged has it in hand
        record(
            session,
            actor=actor,
            action="page.repeat",
            object_type="page",
            object_id=repeat.id,
            reason=subject,
            details={"about": f"{object_type}:{object_id}"},
            clock=clock,
        )
        rota = on_call_rota(session)
        if subject.strip() != repeat.subject and rota:  # news about it (now missed): the same page, said again
            repeat.subject, repeat.body = subject.strip(), body
            _deliver(session, page=repeat, pager=pager, rota=rota, now=(clock or SystemClock()).now(), base_url=base_url)
        return repeat
    rota = on_call_rota(session)
    if not rota:
        raise Conflict("Nobody holds the on-call role: add one before paging.")
    now = (clock or SystemClock()).now()
    page = Page(
        urgency=urgency,
        subject=subject.strip(),
        body=body,
        created_by=str(actor),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        state=PageState.OPEN,
        escalate_after_s=int(escalate_after.total_seconds()),
        max_rounds=max_rounds,
        level=0,
        last_paged_at=now,
        created_at=now,
    )
    session.add(page)
    session.flush()
    record(
        session,
        actor=actor,
        action="page.open",
        object_type="page",
        object_id=page.id,
        reason=subject,
        details={"urgency": str(urgency), "about": f"{object_type}:{object_id}"},
        clock=clock,
    )
    _deliver(session, page=page, pager=pager, rota=rota, now=now, base_url=base_url)
    return page


def _deliver(session: Session, *, page: Page, pager: Pager, rota: list[Recipient], now: datetime, base_url: str) -> PageDelivery:
    recipient = rota[page.level % len(rota)]
    message = PageMessage(
        page_id=page.id,
        urgency=PageUrgency(page.urgency),
        subject=page.subject,
        body=page.body,
        level=page.level,
        ack_url=f"{base_url}/console/emergency/pages/{page.id}",  # the emergency console's row for the page
    )
    delivery = PageDelivery(
        page_id=page.id, level=page.level, recipient=recipient.username, channel=pager.channel, sent_at=now, ok=True
    )
    try:
        pager.send(message, recipient)
    except PagingFailed as exc:
        delivery.ok, delivery.error = False, str(exc)[:500]
    session.add(delivery)
    session.flush()
    return delivery


def escalate_due(session: Session, *, pager: Pager, actor: Actor, clock: Clock | None = None, base_url: str = "") -> list[Page]:
    """Page the next person for every open page left unacknowledged past its delay. A failed
    delivery counts as unanswered at once, so a dead phone does not cost the full delay."""
    now = (clock or SystemClock()).now()
    rota = on_call_rota(session)
    escalated: list[Page] = []
    for page in session.scalars(select(Page).where(Page.state == PageState.OPEN).order_by(Page.id)):
        if not rota or not _is_due(session, page=page, now=now):
            continue
        _escalate(session, page=page, pager=pager, rota=rota, now=now, actor=actor, clock=clock, base_url=base_url)
        escalated.append(page)
    return escalated


def _is_due(session: Session, *, page: Page, now: datetime) -> bool:
    last = session.scalars(select(PageDelivery).where(PageDelivery.page_id == page.id).order_by(PageDelivery.id.desc())).first()
    if last is not None and not last.ok:
        return True
    return now - page.last_paged_at >= timedelta(seconds=page.escalate_after_s)


def next_level(*, level: int, rota_size: int, max_rounds: int) -> int | None:
    """The next position in the rota (position modulo its size is the person), or None once
    every round has been paged."""
    return None if level + 1 >= max_rounds * rota_size else level + 1


def _escalate(
    session: Session,
    *,
    page: Page,
    pager: Pager,
    rota: list[Recipient],
    now: datetime,
    actor: Actor,
    clock: Clock | None,
    base_url: str,
) -> None:
    level = next_level(level=page.level, rota_size=len(rota), max_rounds=page.max_rounds)
    if level is None:
        page.state = PageState.UNANSWERED
        record(
            session,
            actor=actor,
            action="page.unanswered",
            object_type="page",
            object_id=page.id,
            reason="every round of the rota was paged",
            clock=clock,
        )
        return
    page.level = level
    page.last_paged_at = now
    delivery = _deliver(session, page=page, pager=pager, rota=rota, now=now, base_url=base_url)
    record(
        session,
        actor=actor,
        action="page.escalate",
        object_type="page",
        object_id=page.id,
        reason=f"unacknowledged; paging {delivery.recipient}",
        details={"level": page.level, "delivered": delivery.ok},
        clock=clock,
    )


def acknowledge(session: Session, *, page_id: int, actor: Actor, username: str, clock: Clock | None = None) -> Page:
    """Record that `username` has the page in hand; escalation stops."""
    page = session.get(Page, page_id)
    if page is None:
        raise NotFound(f"There is no page {page_id}.")
    if page.state == PageState.ACKNOWLEDGED:
        raise Conflict(f"Page {page_id} was already acknowledged by {page.acknowledged_by}.")
    if page.state == PageState.RESOLVED:
        raise Conflict(f"Page {page_id} is closed: its cause was dealt with.")
    page.state = PageState.ACKNOWLEDGED
    page.acknowledged_at = (clock or SystemClock()).now()
    page.acknowledged_by = username
    session.flush()
    record(
        session,
        actor=actor,
        action="page.acknowledge",
        object_type="page",
        object_id=page.id,
        reason=f"acknowledged by {username}",
        clock=clock,
    )
    return page


def live_page_for(session: Session, *, object_type: str | None, object_id: str | int | None) -> Page | None:
    """The page still open or unanswered about this subject, if any (pages about nothing in
    particular are never merged)."""
    if object_type is None or object_id is None:
        return None
    query = select(Page).where(Page.object_type == object_type, Page.object_id == str(object_id), Page.state.in_(LIVE_STATES))
    return session.scalars(query.order_by(Page.id)).first()


def resolve_for(
    session: Session, *, object_type: str, object_id: str | int, actor: Actor, reason: str, clock: Clock | None = None
) -> list[Page]:
    """Close the pages whose cause was dealt with: escalation stops, and they leave the list
    of those that need a person, with the reason in the audit log."""
    query = select(Page).where(Page.object_type == object_type, Page.object_id == str(object_id), Page.state.in_(LIVE_STATES))
    closed = list(session.scalars(query))
    for page in closed:
        page.state = PageState.RESOLVED
        record(session, actor=actor, action="page.resolve", object_type="page", object_id=page.id, reason=reason, clock=clock)
    session.flush()
    return closed
