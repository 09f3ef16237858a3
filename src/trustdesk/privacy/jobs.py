"""The privacy room's scheduled jobs (core/jobs): retention by the data map, daily, and the
data-subject requests a hold or an order deferred, answered again once it has ended."""

from __future__ import annotations

from trustdesk.core.audit import Actor
from trustdesk.core.jobs import Job, interval_of
from trustdesk.http.container import Container
from trustdesk.privacy import retention, rights

RETENTION = "privacy.retention"
RETRY_DEFERRED = "privacy.retry_deferred"
JOBS_ACTOR = Actor("system", "jobs")


def jobs_for(container: Container) -> list[Job]:
    every = container.settings.jobs_every_s

    def run_retention() -> str:
        report = retention.run(
            container.db,
            clock=container.clock,
            blobs=container.blobs,
            settings=container.settings,
            actor=JOBS_ACTOR,
            platform=container.platform,
        )
        return f"{report.emptied} emptied, {report.deleted} deleted, {report.files_deleted} file(s) deleted (data map {report.data_map_version})"

    def retry_deferred() -> str:
        with container.db.transaction() as session:
            answered = rights.retry_deferred(session, actor=JOBS_ACTOR, clock=container.clock, platform=container.platform)
        return f"{len(answered)} deferred request(s) answered"

    return [
        Job(
            RETENTION,
            interval_of(every, RETENTION, 86400.0),
            run_retention,
            "Purge or pseudonymise each data category past its retention period (the data map).",
            lease_s=3600.0,
        ),
        Job(
            RETRY_DEFERRED,
            interval_of(every, RETRY_DEFERRED, 3600.0),
            retry_deferred,
            "Answer again the access and erasure requests a legal hold, an order or an appeal deferred.",
        ),
    ]
