"""TCO removal orders (Regulation (EU) 2021/784) in the emergency lane.

An order that a verified authority filed itself, through the portal or its API, that passed
every check of the legal domain and was not held for a call-back is carried out at once: the
content is preserved, then removed through enforcement (the platform port, a statement of
reasons on the legal ground of the regulation), the authority is told the time of removal on
the request, and a person confirms afterwards. Anything else waits for a person, who is paged.

The lane reads and moves requests only through the legal domain's service, acts only through
enforcement, and never trusts the order's own words about who sent it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, authorize
from trustdesk.core.paging import Pager, PageUrgency, page_on_call
from trustdesk.emergency import preservation
from trustdesk.emergency.models import Removal, RemovalState, RemovedContent
from trustdesk.legal import clocks
from trustdesk.legal import service as legal
from trustdesk.legal.checks import Verdict
from trustdesk.legal.instruments import Instrument, InstrumentCode, load_catalogue
from trustdesk.legal.intake import Channel
from trustdesk.legal.models import Agency, LawfulRequest, RequestState, RequestTarget
from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.legal.workflow import FINAL
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement import service as enforcement

# The instrument's code, legal basis and clock are the catalogue's (legal/data/instruments.toml).
TCO = InstrumentCode.TCO_REMOVAL
POLICY = "terrorism"
# The lane acts for Trustdesk itself on requests: it may read and handle them, nothing else.
LANE = Principal(
    kind=PrincipalKind.SYSTEM,
    id=0,
    name="emergency-lane",
    permissions=frozenset({Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE}),
)
LANE_ACTOR = Actor("system", "emergency-lane")
OPEN_STATES = frozenset({RemovalState.AWAITING_PERSON, RemovalState.FAILED})


@dataclass(frozen=True)
class Lane:
    """What the lane needs to act: the platform, the pager (None: console only), links."""

    platform: Platform
    clock: Clock
    pager: Pager | None = None
    base_url: str = ""


def instrument() -> Instrument:
    """The TCO removal order as the catalogue describes it: legal basis, one-hour clock, preservation."""
    return load_catalogue().get(TCO)


def legal_ground() -> str:
    """The ground a removal's statement of reasons names: the catalogue's legal basis."""
    return f"{instrument().legal_basis}: removal order"


def hour_text() -> str:
    """'one-hour' (or whatever the catalogue's clock says) for pages and the console."""
    hours = instrument().clock.due_hours
    return "one-hour" if hours == 1 else f"{hours}-hour"


def follow_due(removal: Removal, request: LawfulRequest) -> None:
    """The removal's deadline is its request's, which the legal domain computes from the
    catalogue's clock (`clocks.of_request`: the hour from receipt, or from the moment a missing
    element arrived). The lane keeps a copy for ordering its queue, set only here."""
    removal.due_at = request.due_at


def why_not_automatic(session: Session, *, request: LawfulRequest) -> list[str]:
    """Every reason the order must go to a person; empty means the lane may act alone."""
    reasons = []
    if request.channel not in (Channel.PORTAL, Channel.API):
        reasons.append(f"filed by {request.channel}, not by the authority itself through the portal or API")
    if request.held:
        reasons.append("held until a call-back to the agency's registered number confirms it")
    if request.flags:
        reasons.append(f"flagged at intake: {', '.join(request.flags)}")
    if request.verdict != Verdict.PASS:
        failed = [i["note"] for i in request.checklist if i.get("verdict") == Verdict.FAIL]
        reasons.append(f"failed its checks: {'; '.join(failed)}")
    agency = session.get(Agency, request.agency_id)
    if agency is None or agency.country not in eea_countries():
        reasons.append("the issuing authority is not in a member state")
    if RequestState(request.state) not in (RequestState.RECEIVED, RequestState.VERIFIED):
        reasons.append(f"the request is already {request.state}")
    if not _message_targets(session, request_id=request.id):
        reasons.append("no target resolves to a message on the platform")
    return reasons


def _message_targets(session: Session, *, request_id: int) -> list[RequestTarget]:
    query = (
        select(RequestTarget)
        .where(RequestTarget.request_id == request_id, RequestTarget.resolved.is_(True), RequestTarget.message_id.is_not(None))
        .order_by(RequestTarget.id)
    )
    return list(session.scalars(query))


def removal_for(session: Session, *, request_id: int) -> Removal | None:
    return session.scalar(select(Removal).where(Removal.request_id == request_id))


def get_removal(session: Session, *, removal_id: int) -> Removal:
    removal = session.get(Removal, removal_id)
    if removal is None:
        raise NotFound(f"There is no removal {removal_id} in the emergency lane.")
    return removal


def pending_orders(session: Session) -> list[int]:
    """TCO orders the lane has not taken in yet, and those waiting for a person whose
    request changed since (a missing element may have arrived)."""
    new = select(LawfulRequest.id).where(
        LawfulRequest.instrument == TCO,
        LawfulRequest.id.not_in(select(Removal.request_id)),
        LawfulRequest.state.not_in([str(s) for s in FINAL]),
    )
    waiting = select(Removal.request_id).where(Removal.state == RemovalState.AWAITING_PERSON.value)
    return sorted({*session.scalars(new), *session.scalars(waiting)})


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
    removal = removal or _new_removal(session, request=request, clock=lane.clock)
    follow_due(removal, request)
    if reasons:
        return _to_person(session, lane=lane, removal=removal, request=request, reasons=reasons, first=first)
    return _remove(session, lane=lane, removal=removal, request=request, actor=LANE_ACTOR, automatic=True)


def _new_removal(session: Session, *, request: LawfulRequest, clock: Clock) -> Removal:
    removal = Removal(
        request_id=request.id, state=RemovalState.AWAITING_PERSON.value, received_at=request.received_at, created_at=clock.now()
    )
    follow_due(removal, request)
    session.add(removal)
    session.flush()
    return removal


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
        _page(
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
        for t in _message_targets(session, request_id=request.id)
    ]
    removal.automatic = automatic
    if not rows or not all(r.platform_ok for r in rows):
        return _failed(session, lane=lane, removal=removal, request=request, rows=rows)
    removal.removed_at = lane.clock.now()
    removal.state = (RemovalState.AUTO_REMOVED if automatic else RemovalState.REMOVED_BY_PERSON).value
    session.flush()
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
        days=_preserve_days(),
        actor=actor,
    )


def _preserve_days() -> int:
    days = instrument().clock.preserve_removed_days
    assert days is not None, "the catalogue's TCO clock names how long removed content is kept"
    return days


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
    _page(
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


def _page(session: Session, *, lane: Lane, removal: Removal, urgency: PageUrgency, subject: str) -> None:
    if lane.pager is None:
        return
    try:
        page_on_call(
            session,
            pager=lane.pager,
            actor=LANE_ACTOR,
            urgency=urgency,
            subject=subject[:200],
            body=f"Open {lane.base_url}/console/emergencies",
            object_type="emergency_removal",
            object_id=removal.id,
            base_url=lane.base_url,
            clock=lane.clock,
        )
    except Conflict:  # nobody holds the on-call role: the console banner still shows it
        return


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


def confirm(session: Session, *, clock: Clock, actor: Actor, principal: Principal, removal_id: int, note: str = "") -> Removal:
    """A person looked at what the lane removed on its own and confirms it."""
    authorize(principal, Permission.EMERGENCY_HANDLE)
    removal = get_removal(session, removal_id=removal_id)
    if removal.state != RemovalState.AUTO_REMOVED.value:
        raise Conflict(f"Only an automatic removal waits for confirmation; this one is {removal.state.replace('_', ' ')}.")
    removal.state, removal.confirmed_at, removal.confirmed_by = RemovalState.CONFIRMED.value, clock.now(), str(actor)
    session.flush()
    record(
        session,
        actor=actor,
        action="removal.confirm",
        object_type="emergency_removal",
        object_id=removal.id,
        reason=note.strip() or None,
        clock=clock,
    )
    return removal


def scan_deadlines(session: Session, *, lane: Lane) -> list[Removal]:
    """Page on-call once when an order still waiting is near its hour, and once when missed."""
    now, paged = lane.clock.now(), []
    for removal in session.scalars(select(Removal).where(Removal.state.in_([s.value for s in OPEN_STATES]))):
        request = session.get(LawfulRequest, removal.request_id)
        if request is None or request.due_at is None:
            continue
        follow_due(removal, request)
        if now >= request.due_at and removal.missed_paged_at is None:
            removal.missed_paged_at = now
            _deadline_page(session, lane=lane, removal=removal, request=request, missed=True)
            paged.append(removal)
        elif (
            now >= clocks.warn_at(received_at=_start(request), due_at=request.due_at)
            and removal.warned_at is None
            and now < request.due_at
        ):
            removal.warned_at = now
            _deadline_page(session, lane=lane, removal=removal, request=request, missed=False)
            paged.append(removal)
    return paged


def _start(request: LawfulRequest) -> datetime:
    """The hour runs from receipt, or from the moment the order became complete (the catalogue's rule)."""
    return clocks.removal_start(instrument().clock, received_at=request.received_at, completed_at=request.elements_completed_at)


def _deadline_page(session: Session, *, lane: Lane, removal: Removal, request: LawfulRequest, missed: bool) -> None:
    left = clocks.describe_time_left(request.due_at - lane.clock.now() if request.due_at else None)
    subject = f"TCO order {request.reference}: {hour_text()} deadline {'MISSED' if missed else 'near'} ({left})"
    record(
        session,
        actor=LANE_ACTOR,
        action="removal.deadline_missed" if missed else "removal.deadline_near",
        object_type="emergency_removal",
        object_id=removal.id,
        reason=subject,
        clock=lane.clock,
    )
    _page(session, lane=lane, removal=removal, urgency=PageUrgency.EMERGENCY if missed else PageUrgency.DEADLINE, subject=subject)


def time_left(removal: Removal, *, now: datetime) -> timedelta | None:
    return None if removal.due_at is None else removal.due_at - now
