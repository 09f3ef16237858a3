"""The safety room's scheduled jobs (core/jobs): the pipeline's payload purge and the
hash-list exchanges' fetch, which `trustdesk pipeline purge` and `trustdesk banks fetch
--every` used to need an outside cron (or a terminal left open) for."""

from __future__ import annotations

from datetime import timedelta

from trustdesk.core.audit import Actor
from trustdesk.core.jobs import Job, interval_of
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.safety.exchanges import service as exchanges
from trustdesk.safety.pipeline.retention import purge_payloads
from trustdesk.safety.pipeline.stall import StallWatch, handled_total, page_if_stalled, waiting_on_bus

PIPELINE_PURGE = "safety.pipeline_purge"
EXCHANGE_FETCH = "safety.exchange_fetch"
PIPELINE_WATCH = "safety.pipeline_watch"
JOBS_ACTOR = Actor("system", "jobs")


class FetchFailed(Exception):
    """One or more exchanges failed to fetch; each resumes from its checkpoint next time."""


def jobs_for(container: Container) -> list[Job]:
    every = container.settings.jobs_every_s

    def pipeline_purge() -> str:
        days = container.settings.pipeline_payload_days
        with container.db.transaction() as session:
            count = purge_payloads(session, actor=JOBS_ACTOR, clock=container.clock, days=days)
        return f"{count} event payload(s) older than {days} days blanked"

    def exchange_fetch() -> str:
        with container.db.transaction() as session:
            names = [e.name for e in exchanges.list_exchanges(session) if e.enabled]
        added, failed = 0, []
        for name in names:
            report = exchanges.run_fetch(
                container.db.transaction,
                actor=JOBS_ACTOR,
                clock=container.clock,
                name=name,
                credentials=container.settings.exchange_credentials,
            )
            added += report.added
            if report.error:
                failed.append(name)
        if failed:
            raise FetchFailed(f"{len(failed)} of {len(names)} exchange(s) failed")
        return f"{len(names)} exchange(s) fetched, {added} entries added"

    settings = container.settings
    watch = StallWatch(timedelta(seconds=settings.pipeline_stall_after_s))

    def pipeline_watch() -> str:
        waiting = waiting_on_bus(settings, prefix=container.pipeline.prefix or settings.pipeline_prefix)
        with container.db.read() as session:
            handled = handled_total(session)
        stall = watch.observe(waiting=waiting, handled=handled, now=container.clock.now())
        if stall is None:
            return f"{waiting} event(s) waiting, {handled} handled in all"
        if container.pager is None:
            return f"stalled: {waiting} event(s) waiting since {stall.since:%H:%M}, no pager configured"
        with container.db.transaction() as session:
            page = page_if_stalled(
                session,
                stall=stall,
                pager=container.pager,
                actor=JOBS_ACTOR,
                clock=container.clock,
                stall_after=watch.stall_after,
                base_url=base(settings, Audience.CONSOLE),
            )
        told = "on-call paged" if page is not None else "on-call already paged"
        return f"stalled: {waiting} event(s) waiting, none handled since {stall.since:%H:%M}; {told}"

    return [
        Job(
            PIPELINE_WATCH,
            interval_of(every, PIPELINE_WATCH, 60.0),
            pipeline_watch,
            "Page on-call when accepted events wait on the bus and none has been handled for pipeline_stall_after_s.",
        ),
        Job(
            PIPELINE_PURGE,
            interval_of(every, PIPELINE_PURGE, 86400.0),
            pipeline_purge,
            "Blank the content of pipeline events handled longer ago than pipeline_payload_days.",
        ),
        Job(
            EXCHANGE_FETCH,
            interval_of(every, EXCHANGE_FETCH, 900.0),
            exchange_fetch,
            "Fetch every enabled hash-list exchange into its bank, resuming from its checkpoint.",
            lease_s=3600.0,
        ),
    ]
