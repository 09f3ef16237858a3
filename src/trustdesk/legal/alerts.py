"""Deadline alerts to the on-call role: once when a deadline comes near, once when it is
missed. Each alert is a row (so it is raised once, and the console can list it) and, where
someone holds the on-call role, a page through the emergency lane's pager."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import Pager, PageUrgency, page_on_call
from trustdesk.legal.clocks import describe_time_left, warn_at
from trustdesk.legal.disclosure.models import HoldState, LegalHold
from trustdesk.legal.models import DeadlineAlert, LawfulRequest
from trustdesk.legal.workflow import FINAL, WAITING_ON_AUTHORITY


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"
    MISSED = "missed"
    PRESERVATION_EXPIRING = "preservation_expiring"
    HOLD_LAPSING = "hold_lapsing"  # one target's legal hold, at its own (extended, capped) expiry


def _deadline(request: LawfulRequest) -> tuple[datetime, AlertKind] | None:
    if request.due_at is not None:
        return request.due_at, AlertKind.DUE_SOON
    if request.expires_at is not None:
        return request.expires_at, AlertKind.PRESERVATION_EXPIRING
    return None


def due_alerts(request: LawfulRequest, *, now: datetime) -> list[tuple[AlertKind, datetime]]:
    """Which alerts this request deserves at `now` (before deduplication)."""
    found = _deadline(request)
    if found is None:
        return []
    deadline, kind = found
    if now >= deadline and kind is AlertKind.DUE_SOON:
        return [(AlertKind.DUE_SOON, deadline), (AlertKind.MISSED, deadline)]
    if now >= warn_at(received_at=request.received_at, due_at=deadline):
        return [(kind, deadline)]
    return []


def scan(session: Session, *, clock: Clock, pager: Pager | None, actor: Actor, base_url: str = "") -> list[DeadlineAlert]:
    """Raise every alert that is due and not yet raised. Run every minute by a worker or
    `trustdesk legal alerts`; safe to run as often as you like."""
    now, raised = clock.now(), []
    skip = [str(s) for s in FINAL | WAITING_ON_AUTHORITY]
    for request in session.scalars(select(LawfulRequest).where(LawfulRequest.state.not_in(skip))):
        for kind, deadline in due_alerts(request, now=now):
            if _already(session, request=request, kind=kind, deadline=deadline):
                continue
            raised.append(
                _raise(
                    session,
                    request=request,
                    kind=kind,
                    deadline=deadline,
                    clock=clock,
                    pager=pager,
                    actor=actor,
                    base_url=base_url,
                )
            )
    raised += _lapsing_holds(session, clock=clock, pager=pager, actor=actor, base_url=base_url)
    return raised


def _lapsing_holds(session: Session, *, clock: Clock, pager: Pager | None, actor: Actor, base_url: str) -> list[DeadlineAlert]:
    """A hold about to lapse alerts a person (issue #16): warned when a fifth of its time is
    left, on the hold's own expiry, which an extension or a fresh letter may have moved. A
    hold kept for a production order is not lapsing: it waits for the answer."""
    now, raised = clock.now(), []
    for hold in session.scalars(select(LegalHold).where(LegalHold.state == HoldState.ACTIVE.value).order_by(LegalHold.id)):
        if now < warn_at(received_at=hold.frozen_at, due_at=hold.expires_at):
            continue
        request = session.get(LawfulRequest, hold.request_id)
        assert request is not None
        if _already(session, request=request, kind=AlertKind.HOLD_LAPSING, deadline=hold.expires_at):
            continue
        alert = _raise(
            session,
            request=request,
            kind=AlertKind.HOLD_LAPSING,
            deadline=hold.expires_at,
            clock=clock,
            pager=pager,
            actor=actor,
            base_url=base_url,
        )
        alert.detail = f"{alert.detail} (hold {hold.id} of {hold.account_id}: extend, or a production order keeps it)"[:300]
        raised.append(alert)
    return raised


def _already(session: Session, *, request: LawfulRequest, kind: AlertKind, deadline: datetime) -> bool:
    query = select(DeadlineAlert.id).where(
        DeadlineAlert.request_id == request.id, DeadlineAlert.kind == str(kind), DeadlineAlert.deadline_at == deadline
    )
    return session.scalar(query) is not None


def _raise(
    session: Session,
    *,
    request: LawfulRequest,
    kind: AlertKind,
    deadline: datetime,
    clock: Clock,
    pager: Pager | None,
    actor: Actor,
    base_url: str,
) -> DeadlineAlert:
    left = describe_time_left(deadline - clock.now())
    detail = f"{request.reference} ({request.instrument}{', emergency' if request.emergency else ''}): {kind.value.replace('_', ' ')}, {left}"
    alert = DeadlineAlert(
        request_id=request.id,
        kind=str(kind),
        deadline_at=deadline,
        raised_at=clock.now(),
        role=str(Role.ON_CALL),
        detail=detail[:300],
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.alert",
        object_type="lawful_request",
        object_id=request.id,
        reason=detail,
        clock=clock,
    )
    if pager is not None:
        try:
            page_on_call(
                session,
                pager=pager,
                actor=actor,
                urgency=PageUrgency.DEADLINE,
                subject=detail[:200],
                body=f"Open {base_url}/console/requests/{request.id}",
                object_type="lawful_request",
                object_id=request.id,
                base_url=base_url,
                clock=clock,
            )
        except Conflict:
            alert.detail = (detail + " (nobody on call: not paged)")[:300]
    return alert


def list_alerts(session: Session, *, limit: int = 100) -> list[DeadlineAlert]:
    return list(
        session.scalars(select(DeadlineAlert).order_by(DeadlineAlert.raised_at.desc(), DeadlineAlert.id.desc()).limit(limit))
    )
