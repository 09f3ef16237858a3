"""An event accepted but never handled is an alert, not silence (issue #19): the
`safety.pipeline_watch` job pages on-call once events have waited on the bus with none
handled for `pipeline_stall_after_s`, once per stall, and not while the workers make progress."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from trustdesk.core.bus import JOURNAL_FILE, Journal, JournaledBus
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging.models import Page, PageState
from trustdesk.core.paging.twins import InMemoryPager
from trustdesk.http.container import Container
from trustdesk.safety.jobs import PIPELINE_WATCH, jobs_for
from trustdesk.safety.pipeline.models import PipelineTotal
from trustdesk.safety.pipeline.stall import StallWatch, waiting_on_bus

T0 = datetime(2026, 12, 8, tzinfo=UTC)


@given(steps=st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.integers(1, 200)), max_size=40))
def test_a_stall_is_reported_only_after_no_progress_for_the_whole_delay(steps: list[tuple[int, bool, int]]) -> None:
    watch, now, handled = StallWatch(timedelta(seconds=300)), T0, 0
    last_move: datetime | None = None
    for waiting, progressed, seconds in steps:
        now += timedelta(seconds=seconds)
        handled += 1 if progressed else 0
        stall = watch.observe(waiting=waiting, handled=handled, now=now)
        if waiting == 0 or progressed or last_move is None:
            last_move = now
        expected = waiting > 0 and now - last_move >= timedelta(seconds=300)
        assert (stall is not None) is expected
        if stall is not None:
            assert stall.since == last_move and stall.waiting == waiting


def _publish(settings, n: int) -> None:
    async def go() -> None:
        bus = JournaledBus(Journal(settings.data_dir / JOURNAL_FILE), prefix=settings.pipeline_prefix)
        for i in range(n):
            bus.publish_now("events.message", b"{}", msg_id=f"ev-{i}")

    asyncio.run(go())


def _watch_job(container: Container):
    (job,) = [j for j in jobs_for(container) if j.name == PIPELINE_WATCH]
    return job


def test_events_waiting_with_no_worker_page_on_call_once(settings, db, clock, platform, staff) -> None:
    staff.create(Role.ON_CALL, username="oncall1")
    pager = InMemoryPager()
    container = Container(settings=settings, db=db, clock=clock, platform=platform, pager=pager)
    job = _watch_job(container)
    _publish(settings, 3)  # accepted (journaled) by an API whose workers never come
    assert waiting_on_bus(settings, prefix=settings.pipeline_prefix) == 3
    assert job.run().startswith("3 event(s) waiting")
    clock.advance(seconds=settings.pipeline_stall_after_s - 1)
    assert "stalled" not in job.run()
    clock.advance(seconds=1)
    assert job.run().endswith("on-call paged")
    ((message, recipient),) = pager.sent
    assert recipient.username == "oncall1" and message.subject.startswith("Pipeline stalled: 3 events waiting")
    clock.advance(seconds=60)
    assert job.run().endswith("on-call already paged") and len(pager.sent) == 1
    with db.transaction() as session:
        page = session.scalar(select(Page).where(Page.object_type == "pipeline"))
        assert page is not None and page.state == PageState.OPEN


def test_workers_that_make_progress_are_no_stall(settings, db, clock, platform, staff) -> None:
    staff.create(Role.ON_CALL, username="oncall2")
    pager = InMemoryPager()
    container = Container(settings=settings, db=db, clock=clock, platform=platform, pager=pager)
    job = _watch_job(container)
    _publish(settings, 5)
    for handled in range(1, 8):
        with db.transaction() as session:
            total = session.get(PipelineTotal, ("w1", "events", "", False))
            if total is None:
                session.add(PipelineTotal(worker="w1", figure="events", rule="", shadow=False, value=handled))
            else:
                total.value = handled
        clock.advance(seconds=settings.pipeline_stall_after_s)
        assert "stalled" not in job.run()
    assert pager.sent == []
