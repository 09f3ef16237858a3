"""Paging: the first on-call person is paged, an unacknowledged page walks the rota, an
acknowledgement stops it, every step is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import TEST_ACTOR, StaffFactory
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import (
    InMemoryPager,
    PageDelivery,
    PageState,
    PageUrgency,
    acknowledge,
    escalate_due,
    next_level,
    page_on_call,
)


@pytest.fixture
def rota(staff: StaffFactory) -> list[str]:
    staff.create(Role.REVIEWER, username="not_on_call")
    return [staff.create(Role.ON_CALL, username=name).username for name in ("oncall1", "oncall2")]


def _open(db: Database, clock: FrozenClock, pager: InMemoryPager, **kw: object) -> int:
    with db.transaction() as session:
        page = page_on_call(
            session,
            pager=pager,
            actor=TEST_ACTOR,
            urgency=PageUrgency.EMERGENCY,
            subject="Threat to life: case 4",
            body="Call the police liaison",
            object_type="case",
            object_id=4,
            escalate_after=timedelta(minutes=5),
            clock=clock,
            **kw,
        )
        return page.id


def _escalate(db: Database, clock: FrozenClock, pager: InMemoryPager) -> list[int]:
    with db.transaction() as session:
        return [p.id for p in escalate_due(session, pager=pager, actor=TEST_ACTOR, clock=clock)]


def test_page_goes_to_the_first_on_call_person_only(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    _open(db, clock, pager)
    assert [r.username for _, r in pager.sent] == ["oncall1"]
    assert pager.sent[0][0].subject == "Threat to life: case 4"


def test_unacknowledged_page_escalates_to_the_next_person_after_the_delay(
    db: Database, clock: FrozenClock, rota: list[str]
) -> None:
    pager = InMemoryPager()
    page_id = _open(db, clock, pager)
    clock.advance(minutes=4, seconds=59)
    assert _escalate(db, clock, pager) == []
    clock.advance(seconds=1)
    assert _escalate(db, clock, pager) == [page_id]
    assert [r.username for _, r in pager.sent] == ["oncall1", "oncall2"]


def test_acknowledgement_stops_escalation_and_is_audited(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    page_id = _open(db, clock, pager)
    clock.advance(minutes=1)
    with db.transaction() as session:
        page = acknowledge(session, page_id=page_id, actor=TEST_ACTOR, username="oncall1", clock=clock)
        assert (page.state, page.acknowledged_by, page.acknowledged_at) == (PageState.ACKNOWLEDGED, "oncall1", clock.now())
    clock.advance(hours=1)
    assert _escalate(db, clock, pager) == []
    with db.transaction() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "page")).all()
    assert actions == ["page.open", "page.acknowledge"]


def test_second_acknowledgement_is_refused_and_changes_nothing(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    page_id = _open(db, clock, InMemoryPager())
    with db.transaction() as session:
        acknowledge(session, page_id=page_id, actor=TEST_ACTOR, username="oncall1", clock=clock)
    with pytest.raises(Conflict, match="already acknowledged by oncall1"), db.transaction() as session:
        acknowledge(session, page_id=page_id, actor=TEST_ACTOR, username="oncall2", clock=clock)
    with pytest.raises(NotFound), db.transaction() as session:
        acknowledge(session, page_id=999_999, actor=TEST_ACTOR, username="oncall2", clock=clock)


def test_failed_delivery_escalates_at_once_and_is_recorded(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager(fail_for={"oncall1"})
    page_id = _open(db, clock, pager)
    assert _escalate(db, clock, pager) == [page_id]  # no waiting on a phone that is off
    assert [r.username for _, r in pager.sent] == ["oncall2"]
    with db.transaction() as session:
        rows = session.scalars(select(PageDelivery).where(PageDelivery.page_id == page_id).order_by(PageDelivery.id)).all()
        assert [(d.recipient, d.ok) for d in rows] == [("oncall1", False), ("oncall2", True)]
        assert "no route to oncall1" in rows[0].error


def test_page_is_marked_unanswered_after_every_round(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    page_id = _open(db, clock, pager, max_rounds=2)
    for _ in range(5):
        clock.advance(minutes=5)
        _escalate(db, clock, pager)
    assert [r.username for _, r in pager.sent] == ["oncall1", "oncall2", "oncall1", "oncall2"]
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(page_id))).all()
        assert entries[-1].action == "page.unanswered"


def test_paging_without_anyone_on_call_is_a_clear_error(db: Database, clock: FrozenClock) -> None:
    with pytest.raises(Conflict, match="Nobody holds the on-call role"):
        _open(db, clock, InMemoryPager())


@pytest.mark.parametrize("kw", [{"max_rounds": 0}, {"subject": " "}])
def test_bad_page_parameters_are_refused_before_anything_is_written(
    db: Database, clock: FrozenClock, rota: list[str], kw: dict[str, object]
) -> None:
    pager = InMemoryPager()
    with pytest.raises(InvalidInput), db.transaction() as session:
        page_on_call(
            session, pager=pager, actor=TEST_ACTOR, urgency=PageUrgency.DEADLINE, body="b", clock=clock, **{"subject": "s", **kw}
        )
    assert pager.sent == []


@settings(max_examples=200, deadline=None)
@given(rota_size=st.integers(1, 8), rounds=st.integers(1, 5))
def test_escalation_visits_each_person_once_per_round(rota_size: int, rounds: int) -> None:
    """Walking the rota from the primary pages each person once per round, in order, and stops."""
    levels, level = [0], 0
    while (level := next_level(level=level, rota_size=rota_size, max_rounds=rounds)) is not None:
        levels.append(level)
    assert [lv % rota_size for lv in levels] == list(range(rota_size)) * rounds
