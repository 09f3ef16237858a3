"""An event accepted but never handled is an alert, not silence (issue #19).

When the API and the workers disagree on the bus (another prefix, another NATS server), or
every worker is down or stuck, ingest keeps answering 202 and nothing happens. The job
`safety.pipeline_watch` reads, every minute, how many events wait on the bus and how many the
workers have handled (`pipeline_totals`); when events have been waiting and the handled
count has not moved for `pipeline_stall_after_s`, it pages on-call, once per stall (an open
page about it is not repeated), and says so in its run record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.bus import JOURNAL_FILE, Journal
from trustdesk.core.clock import Clock
from trustdesk.core.paging.models import Page, PageState, PageUrgency
from trustdesk.core.paging.port import Pager
from trustdesk.core.paging.rota import page_on_call
from trustdesk.core.settings import BusKind, Settings
from trustdesk.safety.pipeline.models import PipelineTotal

SUBJECT_TYPE, SUBJECT_ID = "pipeline", "stalled"


@dataclass(frozen=True)
class Stall:
    waiting: int
    handled: int
    since: datetime


@dataclass
class StallWatch:
    """Remembers when the handled count last moved (or nothing was waiting)."""

    stall_after: timedelta
    handled: int | None = None
    progress_at: datetime | None = None

    def observe(self, *, waiting: int, handled: int, now: datetime) -> Stall | None:
        if waiting == 0 or self.handled is None or self.progress_at is None or handled != self.handled:
            self.handled, self.progress_at = handled, now
            return None
        if now - self.progress_at >= self.stall_after:
            return Stall(waiting=waiting, handled=handled, since=self.progress_at)
        return None


def handled_total(session: Session) -> int:
    query = select(func.coalesce(func.sum(PipelineTotal.value), 0)).where(PipelineTotal.figure == "events")
    return int(session.scalar(query) or 0)


def waiting_on_bus(settings: Settings, *, prefix: str) -> int:
    """Events accepted and not yet acknowledged by a worker: the NATS stream's count, or the
    embedded bus's journal (a file any process on the host can read)."""
    if settings.bus is BusKind.NATS:
        from trustdesk.core.bus.nats import NatsBus  # nats-py only where the bus is NATS

        async def read() -> int:
            async with NatsBus(settings.nats_url, prefix=prefix) as bus:
                stats = await bus.stats()
            return stats.pending + stats.in_flight

        return asyncio.run(read())
    journal = Journal(settings.data_dir / JOURNAL_FILE)
    try:
        return journal.count(prefix)
    finally:
        journal.close()


def page_if_stalled(
    session: Session, *, stall: Stall, pager: Pager, actor: Actor, clock: Clock, stall_after: timedelta, base_url: str = ""
) -> Page | None:
    """Page on-call about the stall, unless a page about it is still open."""
    open_page = session.scalar(
        select(Page).where(Page.object_type == SUBJECT_TYPE, Page.object_id == SUBJECT_ID, Page.state == PageState.OPEN)
    )
    if open_page is not None:
        return None
    minutes = int((clock.now() - stall.since).total_seconds() // 60)
    return page_on_call(
        session,
        pager=pager,
        actor=actor,
        urgency=PageUrgency.DEADLINE,
        subject=f"Pipeline stalled: {stall.waiting:,} events waiting, none handled for {minutes} min",
        body=(
            f"{stall.waiting:,} accepted events wait on the bus and the workers' handled count ({stall.handled:,}) has not "
            f"moved since {stall.since:%Y-%m-%d %H:%M} UTC (more than {int(stall_after.total_seconds())} s). Check that "
            "workers run, and that the API and the workers use the same bus and TRUSTDESK_PIPELINE_PREFIX "
            "(docs/pipeline.md)."
        ),
        object_type=SUBJECT_TYPE,
        object_id=SUBJECT_ID,
        base_url=base_url,
        clock=clock,
    )
