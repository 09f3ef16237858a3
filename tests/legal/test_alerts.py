"""Deadline alerts: raised once before the deadline and once when it is missed, paged to the
on-call role through the emergency lane's pager."""

from __future__ import annotations

from tests.conftest import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import InMemoryPager
from trustdesk.legal import alerts
from trustdesk.legal.registry import officer_principal


def _scan(db, clock, pager):
    with db.transaction() as session:
        return [(a.kind, a.request_id) for a in alerts.scan(session, clock=clock, pager=pager, actor=TEST_ACTOR)]


def test_alerts_before_and_after_an_emergency_deadline(db, clock, legal, world, staff) -> None:
    staff.create(Role.ON_CALL, username="oncall1")
    pager = InMemoryPager()
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    assert _scan(db, clock, pager) == []
    clock.advance(hours=6, minutes=25)  # 8h window: warned when 1h36m are left
    assert _scan(db, clock, pager) == [("due_soon", request.id)]
    assert _scan(db, clock, pager) == [], "raised once"
    clock.advance(hours=2)
    assert _scan(db, clock, pager) == [("missed", request.id)]
    assert [r.username for _, r in pager.sent] == ["oncall1", "oncall1"]
    assert "missed" in pager.sent[-1][0].subject


def test_nobody_on_call_still_records_the_alert(db, clock, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    clock.advance(hours=9)
    with db.transaction() as session:
        raised = alerts.scan(session, clock=clock, pager=InMemoryPager(), actor=TEST_ACTOR)
        assert {a.kind for a in raised} == {"due_soon", "missed"}
        assert all("nobody on call" in a.detail for a in raised)


def test_closed_requests_raise_nothing(db, clock, legal, world) -> None:
    from trustdesk.legal import service

    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    with db.transaction() as session:
        service.withdraw(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=officer_principal(officer),
            request_id=request.id,
            reason="no longer needed",
        )
    clock.advance(days=2)
    assert _scan(db, clock, None) == []
