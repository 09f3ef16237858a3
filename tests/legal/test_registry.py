"""Agencies and officers: registration rules, second-factor sign-in, lockout, blocking."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, TEST_ACTOR
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.legal import registry
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import OfficerState


def _login(db, clock, officer, *, password=PASSWORD, code=None, legal=None):
    with db.transaction() as session:
        return registry.login(
            session,
            clock=clock,
            email=officer.email,
            password=password,
            totp_code=code or legal.code(officer),
            max_failures=3,
            lockout_minutes=15,
        )


def test_agency_needs_an_official_call_back_number_and_domains(db, clock) -> None:
    with pytest.raises(InvalidInput, match="call-back number"), db.transaction() as session:
        registry.create_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            code="x-police",
            name="X",
            country="FR",
            kind=IssuerKind.POLICE,
            email_domains=["police.invalid"],
            callback_phone="call us",
            callback_source="",
        )
    with pytest.raises(InvalidInput, match="ISO 3166"), db.transaction() as session:
        registry.create_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            code="x-police",
            name="X",
            country="France",
            kind=IssuerKind.POLICE,
            email_domains=["police.invalid"],
            callback_phone="+33 1 99 00 01 01",
            callback_source="directory",
        )


def test_an_officer_outside_the_agency_domains_cannot_register(db, clock, legal) -> None:
    agency = legal.agency(domain="police.example.invalid")
    with pytest.raises(InvalidInput, match="not in a domain registered"), db.transaction() as session:
        registry.register_officer(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            agency_code=agency.code,
            name="Eve",
            rank="x",
            email="eve@gmail.example",
            supervisor="Boss",
            password=PASSWORD,
        )
    officer = legal.officer(agency)
    with pytest.raises(Conflict), db.transaction() as session:
        registry.register_officer(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            agency_code=agency.code,
            name="Eve",
            rank="x",
            email=officer.email,
            supervisor="Boss",
            password=PASSWORD,
        )


def test_officer_signs_in_with_password_and_one_time_code(db, clock, legal) -> None:
    officer = legal.officer(legal.agency())
    signed_in, error = _login(db, clock, officer, legal=legal)
    assert error is None and signed_in.id == officer.id
    replay, error = _login(db, clock, officer, legal=legal)
    assert replay is None and "wrong" in error.detail, "a one-time code works once"


def test_pending_and_blocked_officers_cannot_sign_in(db, clock, legal) -> None:
    agency = legal.agency()
    pending = legal.officer(agency, verified=False)
    assert "awaiting verification" in _login(db, clock, pending, legal=legal)[1].detail
    blocked = legal.officer(agency)
    with db.transaction() as session:
        registry.set_officer_state(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            officer_id=blocked.id,
            state=OfficerState.BLOCKED,
            reason="mailbox compromised",
        )
    assert "blocked" in _login(db, clock, blocked, legal=legal)[1].detail


def test_repeated_failures_lock_the_account(db, clock, legal) -> None:
    officer = legal.officer(legal.agency())
    for _ in range(2):
        assert _login(db, clock, officer, password="wrong password!!", legal=legal)[1].status == 401
    assert _login(db, clock, officer, password="wrong password!!", legal=legal)[1].status == 401, "the lock is not announced"
    assert _login(db, clock, officer, legal=legal)[0] is None, "even the right password waits"
    clock.advance(minutes=16)
    assert _login(db, clock, officer, legal=legal)[0] is not None


def test_blocking_ends_portal_sessions(db, clock, legal) -> None:
    officer = legal.officer(legal.agency())
    with db.transaction() as session:
        secret = registry.open_portal_session(session, clock=clock, officer=officer, hours=8)
        assert registry.resolve_portal_session(session, clock=clock, secret=secret).agency_id == officer.agency_id
        registry.set_officer_state(
            session, actor=TEST_ACTOR, clock=clock, officer_id=officer.id, state=OfficerState.BLOCKED, reason="compromised"
        )
        assert registry.resolve_portal_session(session, clock=clock, secret=secret) is None


def test_demo_agencies_load_idempotently(db, clock) -> None:
    from trustdesk.legal.demo import demo_officers, ensure_demo_agencies

    with db.transaction() as session:
        first = ensure_demo_agencies(session, clock=clock, actor=TEST_ACTOR)
        again = ensure_demo_agencies(session, clock=clock, actor=TEST_ACTOR)
    assert first == (7, len(demo_officers())) and again == (0, 0)
