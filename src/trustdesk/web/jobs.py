"""Every scheduled job of Trustdesk, as the rooms register them (`<room>/jobs.py`), and the
scheduler of a process: what `create_app` starts (`jobs_in_server`) and `trustdesk jobs run`
runs. Core's own job (the audit checkpoints) is the top's, as core's routers are.

Retention (issue #21, the privacy room's `run_retention(session, clock, ...)`) plugs in
through `retention_jobs`: hand it the function and it is one more job on the same schedule and
election; until then the slot is empty (no placeholder runs)."""

from __future__ import annotations

from trustdesk.core.audit import checkpoints
from trustdesk.core.jobs import Job, Scheduler, interval_of
from trustdesk.emergency import jobs as emergency_jobs
from trustdesk.http.container import Container
from trustdesk.legal import jobs as legal_jobs
from trustdesk.privacy import jobs as privacy_jobs
from trustdesk.safety import jobs as safety_jobs

AUDIT_CHECKPOINT = "audit.checkpoint"


def audit_jobs(container: Container) -> list[Job]:
    every = interval_of(container.settings.jobs_every_s, AUDIT_CHECKPOINT, container.settings.audit_checkpoint_every_s)
    anchor = checkpoints.Anchor.of(container.settings)

    def checkpoint() -> str:
        mark, new = checkpoints.take(container.db, anchor, clock=container.clock)
        return f"signed checkpoint at entry {mark.seq}" if new else f"head unchanged since entry {mark.seq}"

    return [
        Job(
            AUDIT_CHECKPOINT,
            every,
            checkpoint,
            "Sign the audit chain's head into the checkpoint log.",
            first_after_s=min(every, 60.0),
        )
    ]


def registered_jobs(container: Container) -> list[Job]:
    """Every job, enabled or not (an interval of 0 is off), by room."""
    return [
        *audit_jobs(container),
        *legal_jobs.jobs_for(container),
        *safety_jobs.jobs_for(container),
        *emergency_jobs.jobs_for(container),
        *privacy_jobs.jobs_for(container),
    ]


def scheduler_for(container: Container, *, jobs: list[Job] | None = None) -> Scheduler:
    return Scheduler(
        container.db,
        registered_jobs(container) if jobs is None else jobs,
        clock=container.clock,
        poll_s=container.settings.jobs_poll_s,
    )
