"""TCO removal orders in the emergency lane on the demo platform: confirmation, who may act,
the lane running after commit, the clock and its pages. Taking an order in and a person's
removal (emergency/flows.py) are tests/emergency/test_flows.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.emergency.conftest import file_tco
from tests.legal.conftest import staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, Forbidden
from trustdesk.core.identity.permissions import Role
from trustdesk.emergency import flows, removal
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency.models import RemovalState
from trustdesk.legal import service as legal_service
from trustdesk.legal.intake import Channel
from trustdesk.platform.port import MessageState


def _take_in(db, lane, request_id):
    with db.transaction() as session:
        return flows.take_in(session, lane=lane, request_id=request_id)


def _actions(db, object_type):
    with db.transaction() as session:
        return [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type))]


def test_a_person_confirms_the_automatic_removal_afterwards_once(db, clock, legal, world, lane) -> None:
    done = _take_in(db, lane, file_tco(legal, world).id)
    with db.transaction() as session:
        confirmed = removal.confirm(
            session, clock=clock, actor=TEST_ACTOR, principal=staff_principal(), removal_id=done.id, note="clear call to violence"
        )
        assert confirmed.state == RemovalState.CONFIRMED and confirmed.confirmed_by == str(TEST_ACTOR)
    with pytest.raises(Conflict), db.transaction() as session:
        removal.confirm(session, clock=clock, actor=TEST_ACTOR, principal=staff_principal(), removal_id=done.id)
    assert "removal.confirm" in _actions(db, "emergency_removal")


def test_only_emergency_handlers_confirm_or_remove_whichever_entry_point_calls(db, clock, legal, world, lane) -> None:
    done = _take_in(db, lane, file_tco(legal, world).id)
    waiting = _take_in(db, lane, file_tco(legal, world, channel=Channel.STAFF).id)
    reviewer = staff_principal(Role.REVIEWER)
    with pytest.raises(Forbidden, match="emergency:handle"), db.transaction() as session:
        removal.confirm(session, clock=clock, actor=TEST_ACTOR, principal=reviewer, removal_id=done.id)
    with pytest.raises(Forbidden, match="emergency:handle"), db.transaction() as session:
        flows.remove_by_person(session, lane=lane, actor=TEST_ACTOR, principal=reviewer, removal_id=waiting.id, reason="x")
    with db.transaction() as session:
        assert removal.get_removal(session, removal_id=done.id).state == RemovalState.AUTO_REMOVED
        assert removal.get_removal(session, removal_id=waiting.id).state == RemovalState.AWAITING_PERSON


def test_the_lane_runs_on_its_own_when_the_order_is_committed(db, clock, legal, world, lane, platform) -> None:
    lane_runner.install(db, lambda: lane)
    order = file_tco(legal, world)
    with db.transaction() as session:
        assert removal.removal_for(session, request_id=order.id).state == RemovalState.AUTO_REMOVED
    assert platform.get_message(world.message_id).state is MessageState.REMOVED


def test_the_lane_waits_for_the_transaction_to_commit_not_for_a_savepoint(db, clock, legal, world, lane, platform) -> None:
    """Request handlers file inside a savepoint; on SQLite the lane running at its release
    would wait for the write lock its own request still holds."""
    from tests.emergency.conftest import tco
    from trustdesk.legal.intake import submit_request
    from trustdesk.legal.registry import officer_principal

    lane_runner.install(db, lambda: lane)
    officer = legal.officer(legal.agency(), confirmed=True)
    with db.transaction() as session:
        with session.begin_nested():
            order = submit_request(
                session,
                actor=TEST_ACTOR,
                clock=clock,
                platform=platform,
                blobs=legal.blobs,
                principal=officer_principal(officer),
                submission=tco(world),
                channel=Channel.PORTAL,
            )
        assert removal.removal_for(session, request_id=order.id) is None, "not yet: the request is not committed"
    with db.transaction() as session:
        assert removal.removal_for(session, request_id=order.id).state == RemovalState.AUTO_REMOVED
    assert platform.get_message(world.message_id).state is MessageState.REMOVED


def test_the_hour_restarts_when_the_missing_element_arrives_and_the_lane_follows(db, clock, legal, world, lane) -> None:
    elements = {"issuing_authority": "OFAC", "reasons": "glorification of an attack"}  # no redress
    order = file_tco(legal, world, channel=Channel.STAFF, elements=elements)
    waiting = _take_in(db, lane, order.id)
    assert waiting.due_at is None and "missing" in waiting.why_not_automatic, "the hour waits for the missing element"
    clock.advance(minutes=40)
    with db.transaction() as session:
        legal_service.supply_elements(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=order.id,
            elements={"redress": "Administrative court"},
        )
    again = _take_in(db, lane, order.id)
    assert again.due_at == clock.now() + timedelta(hours=1), "a full hour from the moment the order became complete"
    assert "missing" not in again.why_not_automatic


def test_near_and_missed_deadlines_page_on_call_once_each(db, clock, legal, world, lane, pager, staff) -> None:
    from trustdesk.core.identity.permissions import Role

    staff.create(Role.ON_CALL, username="oncall1")
    _take_in(db, lane, file_tco(legal, world, channel=Channel.STAFF).id)
    pager.sent.clear()
    clock.advance(minutes=46)
    with db.transaction() as session:
        assert len(removal.scan_deadlines(session, lane=lane)) == 1
        assert removal.scan_deadlines(session, lane=lane) == []
    clock.advance(minutes=15)
    with db.transaction() as session:
        assert len(removal.scan_deadlines(session, lane=lane)) == 1
    subjects = [m.subject for m, _ in pager.sent]
    assert "near" in subjects[0] and "MISSED" in subjects[1] and len(subjects) == 2


def test_unacknowledged_pages_escalate_to_the_next_person_on_call(db, clock, legal, world, lane, pager, staff) -> None:
    from trustdesk.core.identity.permissions import Role

    staff.create(Role.ON_CALL, username="first")
    staff.create(Role.ON_CALL, username="second")
    lane_runner.tick(db, lane=removal.Lane(platform=lane.platform, clock=clock, pager=pager))
    _take_in(db, lane, file_tco(legal, world, confirmed=False).id)
    clock.advance(minutes=6)
    lane_runner.tick(db, lane=lane)
    assert [r.username for _, r in pager.sent][:2] == ["first", "second"]
