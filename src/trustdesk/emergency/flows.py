"""Work that crosses domains in the emergency lane: carrying a TCO removal order out. Taking an
order in (at once, or to a person, who is paged), and a person's removal, move the request
through the legal domain's service, remove the content through enforcement's `take_action`,
and tell the authority on the request. The removal's own rows, queue and clocks are
`emergency/removal.py`.

The lane reads and moves requests only through the legal domain's service, acts only through
enforcement, and never trusts the order's own words about who sent it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.core.paging import PageUrgency, resolve_for
from trustdesk.emergency import preservation
from trustdesk.emergency.models import Removal, RemovalState, RemovedContent
from trustdesk.emergency.removal import (
    LANE,
    LANE_ACTOR,
    OPEN_STATES,
    POLICY,
    TCO,
    Lane,
    follow_due,
    get_removal,
    hour_text,
    legal_ground,
    message_targets,
    new_removal,
    page,
    preserve_days,
    removal_for,
    why_not_automatic,
)
from trustdesk.legal import service as legal
from trustdesk.legal.models import LawfulRequest, RequestState, RequestTarget
from trustdesk.safety.enforcement import service as enforcement


def take_in(session: Session, *, lane: Lane, request_id: int) -> Removal:
    """Take one TCO order into the lane: act at once if it may, otherwise hand it to a person."""
    request = legal.get_request(session, principal=LANE, request_id=request_id)
    if request.instrument != TCO:
        raise InvalidInput(f"Request {request.reference} is a {request.instrument}, not a TCO removal order.")
    removal = removal_for(session, request_id=request.id)
    if removal is not None and removal.state != RemovalState.AWAITING_PERSON.value:
        follow_due(removal, request)
        return removal
    reasons = why_not_automatic(session, request=request)
    first = removal is None
    removal = removal or new_removal(session, request=request, clock=lane.clock)
    follow_due(removal, request)
    if reasons:
        return _to_person(session, lane=lane, removal=removal, request=request, reasons=reasons, first=first)
    return _remove(session, lane=lane, removal=removal, request=request, actor=LANE_ACTOR, automatic=True)


def _to_person(
    session: Session, *, lane: Lane, removal: Removal, request: LawfulRequest, reasons: list[str], first: bool
) -> Removal:
    why = "; ".join(reasons)
    if not first and removal.why_not_automatic == why:
        return removal
    removal.state, removal.why_not_automatic = RemovalState.AWAITING_PERSON.value, why
    session.flush()
    record(
        session,
        actor=LANE_ACTOR,
        action="removal.to_person",
        object_type="emergency_removal",
        object_id=removal.id,
        reason=why,
        details={"request": request.reference},
        clock=lane.clock,
    )
    if first:
        page(
            session,
            lane=lane,
            removal=removal,
            urgency=PageUrgency.EMERGENCY,
            subject=f"TCO order {request.reference} needs a person: {hour_text()} clock running",
        )
    return removal


def _remove(
    session: Session,
    *,
    lane: Lane,
    removal: Removal,
    request: LawfulRequest,
    actor: Actor,
    automatic: bool,
    principal: Principal = LANE,
) -> Removal:
    """Preserve, remove, record; tell the authority only when everything came down."""
    _advance(
        session,
        lane=lane,
        request=request,
        actor=actor,
        principal=principal,
        to=RequestState.APPROVED,
        reason="TCO removal order: checks passed, removing" if automatic else "TCO removal order: a person decided to remove",
    )
    rows = [
        _remove_one(session, lane=lane, removal=removal, target=t, actor=actor, automatic=automatic)
        for t in message_targets(session, request_id=request.id)
    ]
    removal.automatic = automatic
    if not rows or not all(r.platform_ok for r in rows):
        return _failed(session, lane=lane, removal=removal, request=request, rows=rows)
    removal.removed_at = lane.clock.now()
    removal.state = (RemovalState.AUTO_REMOVED if automatic else RemovalState.REMOVED_BY_PERSON).value
    session.flush()
    if not automatic:  # a person removed it: the pages about it are answered (an automatic one waits for confirmation)
        resolve_for(
            session, object_type="emergency_removal", object_id=removal.id, actor=actor, reason="removed", clock=lane.clock
        )
    record(
        session,
        actor=actor,
        action="removal.removed",
        object_type="emergency_removal",
        object_id=removal.id,
        clock=lane.clock,
        details={"request": request.reference, "automatic": automatic, "messages": [r.message_id for r in rows]},
    )
    _tell_authority(session, lane=lane, removal=removal, request=request, rows=rows, actor=actor, principal=principal)
    return removal


def _remove_one(
    session: Session, *, lane: Lane, removal: Removal, target: RequestTarget, actor: Actor, automatic: bool
) -> RemovedContent:
    assert target.message_id is not None
    snapshot = preservation.snapshot(lane.platform, message_id=target.message_id, account_id=target.account_id)
    action = enforcement.take_action(
        session,
        actor=actor,
        clock=lane.clock,
        platform=lane.platform,
        subject_kind="message",
        subject_id=target.message_id,
        action="remove_message",
        policy=POLICY,
        automated=automatic,
        source="legal",
        legal_ground=legal_ground(),
        reason="Removed on a removal order of a competent authority under the EU regulation on terrorist content online.",
    )
    return preservation.keep(
        session,
        lane_clock=lane.clock,
        removal=removal,
        target=target,
        action=action,
        snapshot=snapshot,
        days=preserve_days(),
        actor=actor,
    )


def _failed(session: Session, *, lane: Lane, removal: Removal, request: LawfulRequest, rows: list[RemovedContent]) -> Removal:
    removal.state = RemovalState.FAILED.value
    detail = "; ".join(f"{r.message_id}: {r.platform_detail}" for r in rows if not r.platform_ok) or "nothing to remove"
    session.flush()
    record(
        session,
        actor=LANE_ACTOR,
        action="removal.failed",
        object_type="emergency_removal",
        object_id=removal.id,
        reason=detail,
        details={"request": request.reference},
        clock=lane.clock,
    )
    page(
        session,
        lane=lane,
        removal=removal,
        urgency=PageUrgency.EMERGENCY,
        subject=f"TCO order {request.reference}: the platform refused the removal",
    )
    return removal


def _advance(
    session: Session, *, lane: Lane, request: LawfulRequest, actor: Actor, principal: Principal, to: RequestState, reason: str
) -> None:
    """Walk the request along the legal workflow up to `to`, one allowed step at a time."""
    path = [RequestState.VERIFIED, RequestState.UNDER_REVIEW, RequestState.APPROVED, RequestState.ANSWERED]
    for state in path[path.index(RequestState(request.state)) + 1 if request.state in path else 0 : path.index(to) + 1]:
        legal.transition(
            session, actor=actor, clock=lane.clock, principal=principal, request_id=request.id, to_state=state, reason=reason
        )


def _tell_authority(
    session: Session,
    *,
    lane: Lane,
    removal: Removal,
    request: LawfulRequest,
    rows: list[RemovedContent],
    actor: Actor,
    principal: Principal,
) -> None:
    """TCO Art. 3(6): inform the issuing authority, without undue delay, of the removal and
    its time; the message stays on the request for the authority to read."""
    assert removal.removed_at is not None
    at = removal.removed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    items = ", ".join(r.message_id for r in rows)
    body = (
        f"Removal order {request.reference}: the content was removed on {at} ({items}). The removed content and related data "
        f"are preserved until {rows[0].preserve_until:%Y-%m-%d} (Art. 6 of Regulation (EU) 2021/784)."
    )
    legal.post_message(session, actor=actor, clock=lane.clock, principal=principal, request_id=request.id, body=body)
    _advance(
        session,
        lane=lane,
        request=request,
        actor=actor,
        principal=principal,
        to=RequestState.ANSWERED,
        reason=f"content removed on {at}; the authority was told",
    )
    removal.authority_told_at = lane.clock.now()
    session.flush()


def remove_by_person(
    session: Session, *, lane: Lane, actor: Actor, principal: Principal, removal_id: int, reason: str
) -> Removal:
    """A person removes an order the lane could not act on alone. Their own permissions move
    the request, so a request held for a call-back stays held until it is done."""
    authorize(principal, Permission.EMERGENCY_HANDLE)
    removal = get_removal(session, removal_id=removal_id)
    if removal.state not in {s.value for s in OPEN_STATES}:
        raise Conflict(f"This order is already {removal.state.replace('_', ' ')}.")
    if not reason.strip():
        raise InvalidInput("Say why you remove it; it is kept in the record.", field="reason")
    request = legal.get_request(session, principal=principal, request_id=removal.request_id)
    record(
        session,
        actor=actor,
        action="removal.decide",
        object_type="emergency_removal",
        object_id=removal.id,
        reason=reason.strip(),
        clock=lane.clock,
    )
    return _remove(session, lane=lane, removal=removal, request=request, actor=actor, automatic=False, principal=principal)
