"""Every scheduled job of Trustdesk, as the rooms register them (`<room>/jobs.py`), and the
scheduler of a process: what `create_app` starts (`jobs_in_server`) and `trustdesk jobs run`
runs. Core's own job (the audit checkpoints) is the top's, as core's routers are.

Retention (issue #21, the privacy room's `run_retention(session, clock, ...)`) plugs in
through `retention_jobs`: hand it the function and it is one more job on the same schedule and
election; until then the slot is empty (no placeholder runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trustdesk.core.audit import checkpoints
from trustdesk.core.jobs import Job, Scheduler, interval_of
from trustdesk.emergency import jobs as emergency_jobs
from trustdesk.http.container import Container
from trustdesk.legal import jobs as legal_jobs
from trustdesk.safety import jobs as safety_jobs

AUDIT_CHECKPOINT = "audit.checkpoint"
RETENTION = "privacy.retention"
RetentionRun = Callable[..., Any]  # run_retention(session, clock, ...) -> a report with counts
# The privacy room's entry point, once it is merged: `RETENTION_ENTRY_POINT = run_retention`.
RETENTION_ENTRY_POINT: RetentionRun | None = None


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


def retention_jobs(container: Container, run_retention: RetentionRun | None = RETENTION_ENTRY_POINT) -> list[Job]:
    """The retention purge as a job, daily by default (`jobs_every_s` sets it), in one
    transaction of its own; none while no entry point is given."""
    if run_retention is None:
        return []

    def retention() -> str:
        with container.db.transaction() as session:
            report = run_retention(session, container.clock)
        return str(report)[:300]

    every = interval_of(container.settings.jobs_every_s, RETENTION, 86400.0)
    return [
        Job(RETENTION, every, retention, "Purge or pseudonymise each data category past its retention period.", lease_s=3600.0)
    ]


def registered_jobs(container: Container) -> list[Job]:
    """Every job, enabled or not (an interval of 0 is off), by room."""
    return [
        *audit_jobs(container),
        *legal_jobs.jobs_for(container),
        *safety_jobs.jobs_for(container),
        *emergency_jobs.jobs_for(container),
        *retention_jobs(container),
    ]


def scheduler_for(container: Container, *, jobs: list[Job] | None = None) -> Scheduler:
    return Scheduler(
        container.db,
        registered_jobs(container) if jobs is None else jobs,
        clock=container.clock,
        poll_s=container.settings.jobs_poll_s,
    )
