"""The legal room's scheduled jobs (core/jobs): deadline alerts and the release of expired
legal holds, which `trustdesk requests alerts` and `trustdesk disclosure release-expired`
used to need an outside cron for."""

from __future__ import annotations

from trustdesk.core.audit import Actor
from trustdesk.core.jobs import Job, interval_of
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.legal import alerts
from trustdesk.legal.disclosure import preservation
from trustdesk.legal.eevidence import jobs as eevidence_jobs

DEADLINE_ALERTS = "legal.deadline_alerts"
RELEASE_EXPIRED_HOLDS = "legal.release_expired_holds"
JOBS_ACTOR = Actor("system", "jobs")


def jobs_for(container: Container) -> list[Job]:
    every = container.settings.jobs_every_s

    def deadline_alerts() -> str:
        with container.db.transaction() as session:
            raised = alerts.scan(
                session,
                clock=container.clock,
                pager=container.pager,
                actor=JOBS_ACTOR,
                base_url=base(container.settings, Audience.CONSOLE),
            )
            return f"{len(raised)} new alert(s)"

    def release_expired_holds() -> str:
        with container.db.transaction() as session:
            released = preservation.release_expired(session, actor=JOBS_ACTOR, clock=container.clock)
            return f"{len(released)} expired hold(s) released"

    return [
        *eevidence_jobs.jobs_for(container),
        Job(
            DEADLINE_ALERTS,
            interval_of(every, DEADLINE_ALERTS, 60.0),
            deadline_alerts,
            "Raise the lawful requests' deadline alerts that are due, and page on call.",
        ),
        Job(
            RELEASE_EXPIRED_HOLDS,
            interval_of(every, RELEASE_EXPIRED_HOLDS, 3600.0),
            release_expired_holds,
            "Release every legal hold past its expiry, each with an audit entry.",
        ),
    ]
