"""The emergency room's scheduled job (core/jobs): the lane's sweep (TCO orders not yet taken
in, near and missed deadlines paged, unanswered pages escalated). Elected through the
database like every job, so that two servers never sweep the same tick: two sweeps at once
could page on call twice for one deadline."""

from __future__ import annotations

from trustdesk.core.jobs import Job, interval_of
from trustdesk.emergency import lane as lane_runner
from trustdesk.http.container import Container

SWEEP = "emergency.sweep"


def jobs_for(container: Container) -> list[Job]:
    def sweep() -> str:
        lane = lane_runner.lane_of(container)
        if lane is None:
            return "no platform yet: nothing swept"
        return f"{lane_runner.tick(container.db, lane=lane)} order(s) taken in"

    every = interval_of(container.settings.jobs_every_s, SWEEP, container.settings.emergency_sweep_s)
    # The first round one period after start: start-up's own writes go first (one writer on SQLite).
    return [
        Job(
            SWEEP,
            every,
            sweep,
            "The emergency lane's sweep: TCO orders, deadline pages, escalation.",
            first_after_s=every,
            lease_s=max(every * 6, 60.0),
        )
    ]
