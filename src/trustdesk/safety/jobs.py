"""The safety room's scheduled jobs (core/jobs): the pipeline's payload purge and the
hash-list exchanges' fetch, which `trustdesk pipeline purge` and `trustdesk banks fetch
--every` used to need an outside cron (or a terminal left open) for."""

from __future__ import annotations

from trustdesk.core.audit import Actor
from trustdesk.core.jobs import Job, interval_of
from trustdesk.http.container import Container
from trustdesk.safety.exchanges import service as exchanges
from trustdesk.safety.pipeline.retention import purge_payloads

PIPELINE_PURGE = "safety.pipeline_purge"
EXCHANGE_FETCH = "safety.exchange_fetch"
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

    return [
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
