"""Jobs that run by themselves: a scheduler in every Trustdesk process (the server and
`trustdesk jobs run` workers) and one leader per job and tick, elected through the database,
so that two processes never run the same job twice for one tick (docs/jobs.md)."""

from trustdesk.core.jobs.scheduler import Job, Outcome, Scheduler, interval_of

__all__ = ["Job", "Outcome", "Scheduler", "interval_of"]
