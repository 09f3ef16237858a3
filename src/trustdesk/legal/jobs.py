"""The legal room's scheduled jobs (core/jobs): deadline alerts (with holds about to lapse),
the release of expired legal holds and of holds kept for an answered production, and the
lapse of enforcing-state windows that ended unanswered; the first two which `trustdesk requests alerts` and `trustdesk disclosure release-expired`
used to need an outside cron for."""

from __future__ import annotations

from trustdesk.core.audit import Actor
from trustdesk.core.jobs import Job, interval_of
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.legal import alerts, objections
from trustdesk.legal.disclosure import preservation
from trustdesk.legal.eevidence import jobs as eevidence_jobs

DEADLINE_ALERTS = "legal.deadline_alerts"
RELEASE_EXPIRED_HOLDS = "legal.release_expired_holds"
ENFORCING_STATE_LAPSE = "legal.enforcing_state_lapse"
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
            answered = preservation.release_answered(session, actor=JOBS_ACTOR, clock=container.clock)
            return f"{len(released)} expired hold(s) released, {len(answered)} kept for an answered production"

    def enforcing_state_lapse() -> str:
        with container.db.transaction() as session:
            lapsed = objections.lapse_expired(session, actor=JOBS_ACTOR, clock=container.clock)
            return f"{len(lapsed)} enforcing-state window(s) lapsed unanswered"

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
            "Release every legal hold past its expiry, and every hold kept for a production that is answered, each with an audit entry.",
        ),
        Job(
            ENFORCING_STATE_LAPSE,
            interval_of(every, ENFORCING_STATE_LAPSE, 300.0),
            enforcing_state_lapse,
            "Record as lapsed (never as cleared) every enforcing-state window that ended without an answer (Reg. 2023/1543 Art. 10(2)).",
        ),
    ]
