"""Preservation orders and legal holds. A hold freezes a snapshot of the targeted data in
Trustdesk's own store, so that a user deleting messages or a retention job on the platform
does not reach it. It lapses at the instrument's expiry (EPOC-PR 60 days, +30 once; US
2703(f) 90 days, +90 once), can be extended within those limits, or converted into a
production order, whose package then carries the frozen data.

The limits are per target and family (holds.py): a fresh letter does not restart a
target's clock. A production order for a preserved target is linked to its holds at
receipt; a linked hold stays, whatever its clock says, until the production is answered,
then the release job releases it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import (
    Permission,
    Principal,
    PrincipalKind,
    acts_for_authority,
    authorize,
    authorize_request_handling,
)
from trustdesk.legal import clocks
from trustdesk.legal import service as legal_requests
from trustdesk.legal.disclosure import holds
from trustdesk.legal.disclosure.models import ExtensionState, HoldState, LegalHold, PreservationExtension
from trustdesk.legal.instruments import ClockKind, load_catalogue
from trustdesk.legal.models import LawfulRequest, RequestState
from trustdesk.legal.policy import service as policy_service
from trustdesk.legal.policy.engine import Outcome
from trustdesk.legal.workflow import FINAL
from trustdesk.platform.port import Platform


def _rule(request: LawfulRequest) -> clocks.ClockRule:
    rule = load_catalogue().get(request.instrument).clock
    if rule.kind is not ClockKind.PRESERVE:
        raise Conflict(f"A {request.instrument} is not a preservation order.")
    return rule


def freeze(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, platform: Platform, request_id: int
) -> list[LegalHold]:
    """Freeze what the adopted 'preserve only' decision names, one hold per target (each cut
    to what its target names), each within its target's limit for the family (holds.py)."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    decision = policy_service.current_decision(session, principal=principal, request_id=request_id)
    if decision.outcome != Outcome.PRESERVE_ONLY:
        raise Conflict(f"The policy decision is '{decision.outcome}', not 'preserve only'.")
    if holds_for(session, request_id=request.id):
        raise Conflict("This order's data is already frozen.")
    rule, family = _rule(request), holds.family_of(request.instrument)
    wanted = clocks.preservation_expiry(rule, received_at=request.received_at).expires_at
    assert wanted is not None
    targets = [t for t in holds.resolved_targets(session, request_id=request.id) if t.account_id in decision.accounts]
    starts = {t.id: holds.chain_start(session, request=request, account_id=str(t.account_id), family=family) for t in targets}
    for target in targets:
        holds.check_room(rule, chain_started_at=starts[target.id], now=clock.now())
    return [
        holds.new_hold(
            session,
            request=request,
            target=target,
            categories=decision.categories,
            platform=platform,
            actor=actor,
            clock=clock,
            expires=holds.capped(rule, wanted=wanted, chain_started_at=starts[target.id]),
            chain_started_at=starts[target.id],
            family=family,
            period=(decision.period_start, decision.period_end),
        )
        for target in targets
    ]


def holds_for(session: Session, *, request_id: int) -> list[LegalHold]:
    return list(session.scalars(select(LegalHold).where(LegalHold.request_id == request_id).order_by(LegalHold.id)))


def list_holds(session: Session, *, principal: Principal, state: HoldState | None = None) -> list[LegalHold]:
    authorize(principal, Permission.REQUESTS_READ)
    query = select(LegalHold).order_by(LegalHold.expires_at, LegalHold.id)
    return list(session.scalars(query if state is None else query.where(LegalHold.state == state.value)))


def _active(session: Session, hold_id: int) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(f"No legal hold {hold_id}.")
    if hold.state != HoldState.ACTIVE:
        raise Conflict(f"Legal hold {hold_id} is {hold.state}.")
    return hold


def extend(session: Session, *, actor: Actor, clock: Clock, principal: Principal, hold_id: int, reason: str) -> LegalHold:
    """The issuer asked for more time: one more period, within the instrument's limit."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    hold = _active(session, hold_id)
    request = legal_requests.get_request(session, principal=principal, request_id=hold.request_id)
    rule = _rule(request)
    try:
        wanted = clocks.preservation_expiry(rule, received_at=request.received_at, extensions=hold.extensions + 1).expires_at
    except ValueError as exc:
        raise Conflict(f"Cannot extend: {exc}.") from None
    assert wanted is not None  # as in freeze: a preservation rule always sets one
    expires = holds.capped(rule, wanted=wanted, chain_started_at=hold.chain_started_at or hold.frozen_at)
    if expires <= hold.expires_at:
        raise Conflict(
            f"Cannot extend: this target's preservation under {hold.family or request.instrument} has reached its "
            f"{holds.longest_days(rule)}-day limit; only a production order keeps the data longer."
        )
    before, hold.expires_at, hold.extensions = hold.expires_at, expires, hold.extensions + 1
    audit.record(
        session,
        actor=actor,
        action="hold.extend",
        object_type="legal_hold",
        object_id=hold.id,
        reason=reason.strip() or None,
        change={"expires_at": [before, hold.expires_at]},
        details={"extensions": hold.extensions},
        clock=clock,
    )
    return hold


def convert(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, hold_id: int, production_request_id: int
) -> LegalHold:
    """A production order followed: its package will carry the frozen data. One for the
    same target, family and country was already linked at its receipt (holds.py): asking
    again for that production is answered with the hold as it is."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    linked = session.get(LegalHold, hold_id)
    if linked is not None and linked.state == HoldState.CONVERTED and linked.converted_to_request_id == production_request_id:
        return linked
    hold = _active(session, hold_id)
    production = legal_requests.get_request(session, principal=principal, request_id=production_request_id)
    if load_catalogue().get(production.instrument).clock.kind is ClockKind.PRESERVE:
        raise Conflict("A hold is converted into a production order, not into another preservation.")
    hold.state, hold.converted_to_request_id = HoldState.CONVERTED.value, production.id
    audit.record(
        session,
        actor=actor,
        action="hold.convert",
        object_type="legal_hold",
        object_id=hold.id,
        clock=clock,
        details={"production_request_id": production.id, "reference": production.reference},
    )
    return hold


def release(session: Session, *, actor: Actor, clock: Clock, hold: LegalHold, reason: str) -> LegalHold:
    hold.state, hold.released_at = HoldState.RELEASED.value, clock.now()
    audit.record(
        session,
        actor=actor,
        action="hold.release",
        object_type="legal_hold",
        object_id=hold.id,
        reason=reason,
        clock=clock,
        details={"request_id": hold.request_id, "expires_at": hold.expires_at.isoformat()},
    )
    return hold


def release_answered(session: Session, *, actor: Actor, clock: Clock) -> list[LegalHold]:
    """Release every linked hold whose production order is answered, refused, withdrawn or
    closed: the hold stayed for the production, and the production is over."""
    query = (
        select(LegalHold)
        .join(LawfulRequest, LawfulRequest.id == LegalHold.converted_to_request_id)
        .where(LegalHold.state == HoldState.CONVERTED.value, LawfulRequest.state.in_([str(s) for s in FINAL]))
        .order_by(LegalHold.id)
    )
    return [
        release(session, actor=actor, clock=clock, hold=h, reason="the production order it was kept for is answered")
        for h in session.scalars(query).all()
    ]


def release_expired(session: Session, *, actor: Actor, clock: Clock) -> list[LegalHold]:
    """Release every active hold whose time is up (run by a job or the CLI). A hold linked to
    a production order is not active: it waits for the production (release_answered)."""
    due = (
        select(LegalHold)
        .where(LegalHold.state == HoldState.ACTIVE.value, LegalHold.expires_at <= clock.now())
        .order_by(LegalHold.id)
    )
    return [
        release(session, actor=actor, clock=clock, hold=h, reason="expired: no extension or production order arrived in time")
        for h in session.scalars(due).all()
    ]


# The issuing authority's ask for more time is carried out by Trustdesk on its behalf, through
# `extend` (so that every limit check on a hold applies to it): this principal may do that and
# nothing else; the audit entries name the authority that asked.
EXTENSION_AGENT = Principal(
    kind=PrincipalKind.SYSTEM,
    id=0,
    name="preservation-extension",
    permissions=frozenset({Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE}),
)
CLOSED_TO_EXTENSION = frozenset({RequestState.REFUSED, RequestState.WITHDRAWN, RequestState.CLOSED})


def ask_extension(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, reason: str
) -> PreservationExtension:
    """The issuing authority asks for its preservation to be extended (portal, API, or staff
    for an ask that came by post). EPOC-PR Art. 11(1): the issuing authority may extend by
    30 days; 18 U.S.C. 2703(f)(2): extended by 90 days upon a renewed request. The provider
    has no discretion within the limit, so the ask is granted at once (the order's expiry and
    every active hold, each through `extend` and its limit check), or refused with the
    reason (limit reached, preservation lapsed, a hold's own limit): either way it is
    recorded and shown to the authority. Not a preservation order, a closed request or no
    reason: an error, and nothing is written."""
    authorize_request_handling(principal)
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    rule = _rule(request)
    if RequestState(request.state) in CLOSED_TO_EXTENSION:
        raise Conflict(f"Request {request.reference} is {request.state}: there is no preservation to extend.")
    if not reason.strip():
        raise InvalidInput("Say why the preservation must last longer (it is kept with the request).")
    before, now = request.expires_at, clock.now()
    state, detail = ExtensionState.GRANTED, ""
    try:
        with session.begin_nested():
            if request.expires_at is not None and request.expires_at <= now:
                raise Conflict("the preservation lapsed on " + request.expires_at.isoformat() + "; send a new order")
            try:
                clocks.preservation_expiry(rule, received_at=request.received_at, extensions=request.extensions + 1)
            except ValueError as exc:
                raise Conflict(str(exc)) from None
            request.extensions += 1
            clocks.set_deadlines(request)
            for hold in session.scalars(
                select(LegalHold).where(LegalHold.request_id == request.id, LegalHold.state == HoldState.ACTIVE.value)
            ).all():
                extend(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=EXTENSION_AGENT,
                    hold_id=hold.id,
                    reason=f"asked by the issuing authority: {reason.strip()}",
                )
    except Conflict as exc:
        state, detail = ExtensionState.REFUSED, exc.detail.removeprefix("Cannot extend: ")
        session.refresh(request)
    row = PreservationExtension(
        request_id=request.id,
        state=state.value,
        reason=reason.strip()[:2000],
        detail=detail,
        asked_by=str(actor),
        asked_at=now,
        expires_before=before,
        expires_after=request.expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"preservation.extension.{state.value}",
        object_type="lawful_request",
        object_id=request.id,
        reason=reason.strip(),
        details={
            "extension_id": row.id,
            "by_authority": acts_for_authority(principal),
            "detail": detail,
            "expires_at": request.expires_at and request.expires_at.isoformat(),
        },
        clock=clock,
    )
    return row


@dataclass(frozen=True)
class PreservationState:
    """What the authority sees of its preservation: until when, how many extensions are used
    and allowed, the holds' states and expiries (no frozen data), and every ask."""

    request_id: int
    reference: str
    expires_at: datetime | None
    extensions: int
    max_extensions: int
    extension_days: int | None
    holds: list[dict[str, object]]
    asks: list[PreservationExtension]


def preservation_state(session: Session, *, principal: Principal, request_id: int) -> PreservationState:
    """The preservation of one request, for its authority (scoped) or staff."""
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    rule = _rule(request)
    asks = session.scalars(
        select(PreservationExtension).where(PreservationExtension.request_id == request.id).order_by(PreservationExtension.id)
    ).all()
    return PreservationState(
        request_id=request.id,
        reference=request.reference,
        expires_at=request.expires_at,
        extensions=request.extensions,
        max_extensions=rule.max_extensions,
        extension_days=rule.extension_days,
        holds=[
            {"id": h.id, "state": h.state, "expires_at": h.expires_at, "extensions": h.extensions}
            for h in holds_for(session, request_id=request.id)
        ],
        asks=list(asks),
    )
