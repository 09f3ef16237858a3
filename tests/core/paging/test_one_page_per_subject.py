"""Issue #18, on-call on a phone: one page per subject (a second alarm about the same thing
is the same page, said again when there is news), closed when its cause is dealt with, and a
page that went round the whole rota unanswered stays on the emergencies list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR, StaffFactory
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import (
    InMemoryPager,
    Page,
    PageDelivery,
    PageState,
    PageUrgency,
    acknowledge,
    escalate_due,
    page_on_call,
    resolve_for,
)
from trustdesk.emergency.service import overview


@pytest.fixture
def rota(staff: StaffFactory) -> list[str]:
    return [staff.create(Role.ON_CALL, username=name).username for name in ("oncall1", "oncall2")]


def _page(session, clock, pager, subject: str, object_id: int = 7, max_rounds: int = 1) -> Page:  # type: ignore[no-untyped-def]
    return page_on_call(
        session,
        pager=pager,
        actor=TEST_ACTOR,
        urgency=PageUrgency.EMERGENCY,
        subject=subject,
        body="Open the emergencies page",
        object_type="emergency_removal",
        object_id=object_id,
        escalate_after=timedelta(minutes=5),
        max_rounds=max_rounds,
        clock=clock,
    )


def test_a_second_alarm_about_the_same_subject_is_the_same_page(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    with db.transaction() as session:
        first = _page(session, clock, pager, "TCO order: 15 minutes left")
        again = _page(session, clock, pager, "TCO order: 15 minutes left")
        assert again.id == first.id and len(pager.sent) == 1  # nothing new: nobody is woken twice
        missed = _page(session, clock, pager, "TCO order: the hour is MISSED")
        assert missed.id == first.id and missed.subject == "TCO order: the hour is MISSED"
        assert len(pager.sent) == 2  # news about it: said again on the same page
        other = _page(session, clock, pager, "another order", object_id=8)
        assert other.id != first.id
        assert session.scalar(select(func.count()).select_from(Page)) == 2


def test_a_page_closes_when_its_cause_is_dealt_with(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    with db.transaction() as session:
        page = _page(session, clock, pager, "TCO order waiting")
        closed = resolve_for(session, object_type="emergency_removal", object_id=7, actor=TEST_ACTOR, reason="removed")
        assert [p.id for p in closed] == [page.id] and page.state == PageState.RESOLVED
        clock.advance(minutes=10)
        assert escalate_due(session, pager=pager, actor=TEST_ACTOR, clock=clock) == []  # nobody else is paged
        assert page not in overview(session, now=clock.now()).pages
        with pytest.raises(Conflict):
            acknowledge(session, page_id=page.id, actor=TEST_ACTOR, username="oncall1", clock=clock)
        assert _page(session, clock, pager, "TCO order again").id != page.id  # a new alarm after it is a new page


def test_a_page_nobody_answered_stays_on_the_list(db: Database, clock: FrozenClock, rota: list[str]) -> None:
    pager = InMemoryPager()
    with db.transaction() as session:
        page = _page(session, clock, pager, "Threat to life", max_rounds=1)
        for _ in range(3):
            clock.advance(minutes=6)
            escalate_due(session, pager=pager, actor=TEST_ACTOR, clock=clock)
        assert page.state == PageState.UNANSWERED
        assert session.scalar(select(func.count()).select_from(PageDelivery)) == 2  # once round the rota
        assert page in overview(session, now=clock.now()).pages
        acknowledge(session, page_id=page.id, actor=TEST_ACTOR, username="oncall2", clock=clock)
        assert page not in overview(session, now=clock.now()).pages
