"""TCO removal orders (Regulation (EU) 2021/784) in the emergency lane: the removal's own rows
and states, what the lane reads from the catalogue (legal basis, the hour, how long removed
content is kept), why an order may not be carried out alone, its queue, a person's
confirmation, and the deadline pages.

An order that a verified authority filed itself, through the portal or its API, that passed
every check of the legal domain and was not held for a call-back is carried out at once: the
content is preserved, then removed through enforcement (the platform port, a statement of
reasons on the legal ground of the regulation), the authority is told the time of removal on
the request, and a person confirms afterwards. Anything else waits for a person, who is paged.
Carrying an order out moves the legal request and acts through enforcement: that is
`emergency/flows.py`.

The lane never trusts the order's own words about who sent it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, authorize
from trustdesk.core.paging import Pager, PageUrgency, page_on_call, resolve_for
from trustdesk.emergency.models import Removal, RemovalState
from trustdesk.legal import clocks
from trustdesk.legal.checks import Verdict
from trustdesk.legal.instruments import Instrument, InstrumentCode, load_catalogue
from trustdesk.legal.intake import Channel, Flag
from trustdesk.legal.models import Agency, LawfulRequest, RequestState, RequestTarget
from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.legal.workflow import FINAL
from trustdesk.platform.port import Platform

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


def waiting_for(request: LawfulRequest) -> list[str]:
    """The required elements an incomplete order still lacks: its hour starts when the last
    one arrives (TCO Art. 3(8)); empty once complete."""
    if request.elements_completed_at is not None:
        return []
    return [k for k in instrument().required_elements if k not in request.elements]


# The signals that say only that the sender is new to us: a call-back to the agency's
# registered number is what settles them (legal/intake.py Flag), so after a confirmed one they
# no longer stop the lane. A look-alike domain, a number unlike the registry's or an
# unverified agency still need a person.
SETTLED_BY_CALLBACK = frozenset({Flag.NEW_AGENCY.value, Flag.NEW_OFFICER.value})


def why_not_automatic(session: Session, *, request: LawfulRequest) -> list[str]:
    """Every reason the order must go to a person; empty means the lane may act alone."""
    reasons = []
    if request.channel not in (Channel.PORTAL, Channel.API):
        reasons.append(f"filed by {request.channel}, not by the authority itself through the portal or API")
    if request.held:
        reasons.append("held until a call-back to the agency's registered number confirms it")
    flags = [f for f in request.flags if not (request.callback_confirmed_at is not None and f in SETTLED_BY_CALLBACK)]
    if flags:
        reasons.append(f"flagged at intake: {', '.join(flags)}")
    if request.verdict != Verdict.PASS:
        failed = [i["note"] for i in request.checklist if i.get("verdict") == Verdict.FAIL]
        reasons.append(f"failed its checks: {'; '.join(failed)}")
    agency = session.get(Agency, request.agency_id)
    if agency is None or agency.country not in eea_countries():
        reasons.append("the issuing authority is not in a member state")
    if RequestState(request.state) not in (RequestState.RECEIVED, RequestState.VERIFIED):
        reasons.append(f"the request is already {request.state}")
    if not message_targets(session, request_id=request.id):
        reasons.append("no target resolves to a message on the platform")
    return reasons


def message_targets(session: Session, *, request_id: int) -> list[RequestTarget]:
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


def new_removal(session: Session, *, request: LawfulRequest, clock: Clock) -> Removal:
    removal = Removal(
        request_id=request.id, state=RemovalState.AWAITING_PERSON.value, received_at=request.received_at, created_at=clock.now()
    )
    follow_due(removal, request)
    session.add(removal)
    session.flush()
    return removal


def preserve_days() -> int:
    days = instrument().clock.preserve_removed_days
    assert days is not None, "the catalogue's TCO clock names how long removed content is kept"
    return days


def page(session: Session, *, lane: Lane, removal: Removal, urgency: PageUrgency, subject: str) -> None:
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
    resolve_for(
        session, object_type="emergency_removal", object_id=removal.id, actor=actor, reason="removal confirmed", clock=clock
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
    page(session, lane=lane, removal=removal, urgency=PageUrgency.EMERGENCY if missed else PageUrgency.DEADLINE, subject=subject)


def time_left(removal: Removal, *, now: datetime) -> timedelta | None:
    return None if removal.due_at is None else removal.due_at - now


LANE_FAILED, LANE_RECOVERED = "lane.failed", "lane.recovered"


def lane_failures(session: Session) -> dict[int, AuditEntry]:
    """TCO orders the lane failed on and has not yet taken in since: request id -> the
    latest failure (its error, its time, how many attempts)."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "legal_request", AuditEntry.action.in_([LANE_FAILED, LANE_RECOVERED]))
        .order_by(AuditEntry.seq)
    )
    latest: dict[int, AuditEntry] = {}
    for entry in session.scalars(query):
        latest[int(entry.object_id or 0)] = entry
    return {k: e for k, e in latest.items() if e.action == LANE_FAILED}


def lane_failed(session: Session, *, lane: Lane, request_id: int, error: str) -> None:
    """Record a failed attempt (every attempt: the retries are visible in the record and on
    the emergencies page) and page on-call at the first one."""
    previous = lane_failures(session).get(request_id)
    attempts = 1 + int(previous.details.get("attempts", 1)) if previous is not None else 1
    request = session.get(LawfulRequest, request_id)
    reference = request.reference if request is not None else str(request_id)
    record(
        session,
        actor=LANE_ACTOR,
        action=LANE_FAILED,
        object_type="legal_request",
        object_id=request_id,
        reason=error[:1000],
        details={"request": reference, "attempts": attempts},
        clock=lane.clock,
    )
    if previous is None and lane.pager is not None:
        try:
            page_on_call(
                session,
                pager=lane.pager,
                actor=LANE_ACTOR,
                urgency=PageUrgency.EMERGENCY,
                subject=f"TCO order {reference}: the emergency lane failed ({error})"[:200],
                body=f"The lane retries on every sweep. Open {lane.base_url}/console/emergencies",
                object_type="legal_request",
                object_id=request_id,
                base_url=lane.base_url,
                clock=lane.clock,
            )
        except Conflict:  # nobody holds the on-call role: the emergencies page still shows it
            return


def lane_recovered(session: Session, *, lane: Lane, request_id: int) -> None:
    """After failures, a successful attempt closes them in the record."""
    if request_id in lane_failures(session):
        record(
            session,
            actor=LANE_ACTOR,
            action=LANE_RECOVERED,
            object_type="legal_request",
            object_id=request_id,
            reason="the lane took the order in on a retry",
            clock=lane.clock,
        )
