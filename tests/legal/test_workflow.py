"""The state machine: every allowed transition works, every other one is refused."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput
from trustdesk.legal import service
from trustdesk.legal.instruments import RefusalReason
from trustdesk.legal.models import RequestState, RequestTransition
from trustdesk.legal.registry import officer_principal
from trustdesk.legal.workflow import ALLOWED, AUTHORITY_MOVES, check_transition

PAIRS = list(itertools.product(RequestState, RequestState))
FORBIDDEN = [(a, b) for a, b in PAIRS if b not in ALLOWED[a]]
PERMITTED = [(a, b) for a, b in PAIRS if b in ALLOWED[a]]


@pytest.mark.parametrize(("current", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_every_forbidden_transition_is_refused(current: RequestState, target: RequestState) -> None:
    with pytest.raises(Conflict, match=f"cannot become {target.value}"):
        check_transition(current, target, by_authority=False)


@pytest.mark.parametrize(("current", "target"), PERMITTED, ids=[f"{a}->{b}" for a, b in PERMITTED])
def test_allowed_transitions_pass_for_staff(current: RequestState, target: RequestState) -> None:
    check_transition(current, target, by_authority=False)


@pytest.mark.parametrize(("current", "target"), [(a, b) for a, b in PERMITTED if b not in AUTHORITY_MOVES])
def test_the_authority_cannot_decide_its_own_request(current: RequestState, target: RequestState) -> None:
    with pytest.raises(Forbidden):
        check_transition(current, target, by_authority=True)


def test_closed_is_final() -> None:
    assert ALLOWED[RequestState.CLOSED] == frozenset()


def _confirmed_request(legal, world):
    agency = legal.agency()
    officer = legal.officer(agency, confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world))
    return officer, request


def _move(db, clock, request, to, reason="because", principal=None, **kw):
    with db.transaction() as session:
        return service.transition(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=principal or staff_principal(),
            request_id=request.id,
            to_state=to,
            reason=reason,
            **kw,
        )


def test_a_transition_is_a_row_and_an_audit_entry_with_its_reason(db, clock, legal, world) -> None:
    _, request = _confirmed_request(legal, world)
    _move(db, clock, request, RequestState.VERIFIED, reason="call-back not needed; officer known")
    with db.transaction() as session:
        rows = list(
            session.scalars(
                select(RequestTransition).where(RequestTransition.request_id == request.id).order_by(RequestTransition.id)
            )
        )
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "request.transition").order_by(AuditEntry.seq.desc())
        ).first()
    assert [(r.from_state, r.to_state) for r in rows] == [(None, "received"), ("received", "verified")]
    assert entry.reason == "call-back not needed; officer known"


def test_a_refused_transition_changes_nothing(db, clock, legal, world) -> None:
    _, request = _confirmed_request(legal, world)
    with db.transaction() as session:
        before = session.scalar(select(func.count(AuditEntry.seq)))
    with pytest.raises(Conflict):
        _move(db, clock, request, RequestState.ANSWERED)
    with db.transaction() as session:
        assert session.scalar(select(func.count(AuditEntry.seq))) == before
        assert service.get_request(session, principal=staff_principal(), request_id=request.id).state == "received"


def test_a_reason_is_required_and_a_refusal_needs_annex_iii(db, clock, legal, world) -> None:
    _, request = _confirmed_request(legal, world)
    with pytest.raises(InvalidInput, match="reason"):
        _move(db, clock, request, RequestState.VERIFIED, reason=" ")
    with pytest.raises(InvalidInput, match="Annex III"):
        _move(db, clock, request, RequestState.REFUSED)
    _move(db, clock, request, RequestState.REFUSED, refusal_reason=RefusalReason.NOT_HELD)


def test_the_authority_withdraws_its_request(db, clock, legal, world) -> None:
    officer, request = _confirmed_request(legal, world)
    with db.transaction() as session:
        done = service.withdraw(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=officer_principal(officer),
            request_id=request.id,
            reason="suspect identified otherwise",
        )
        assert done.state == "withdrawn"
    with pytest.raises(Forbidden):
        _move(db, clock, request, RequestState.CLOSED, principal=officer_principal(officer))


def test_messages_go_both_ways(db, clock, legal, world) -> None:
    officer, request = _confirmed_request(legal, world)
    with db.transaction() as session:
        service.post_message(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            body="Please give the time zone of the period.",
        )
        service.post_message(
            session, actor=TEST_ACTOR, clock=clock, principal=officer_principal(officer), request_id=request.id, body="UTC."
        )
        view = service.view(session, principal=officer_principal(officer), request_id=request.id)
    assert [(m.from_authority, m.body) for m in view.messages] == [
        (False, "Please give the time zone of the period."),
        (True, "UTC."),
    ]
    with pytest.raises(InvalidInput), db.transaction() as session:
        service.post_message(
            session, actor=TEST_ACTOR, clock=clock, principal=staff_principal(), request_id=request.id, body="  "
        )
