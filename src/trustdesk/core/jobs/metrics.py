"""Job figures for `/metrics`, read from the jobs' rows at scrape time, so that they count
every process's runs, not only this one's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from trustdesk.core.database import Database
from trustdesk.core.jobs.models import JobState
from trustdesk.core.jobs.scheduler import OK, states


class JobsCollector(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Any]:
        labels = ["job"]
        families = {
            "runs": CounterMetricFamily("trustdesk_job_runs", "Runs of a scheduled job, by every process", labels=labels),
            "failures": CounterMetricFamily("trustdesk_job_failures", "Failed runs of a scheduled job", labels=labels),
            "streak": GaugeMetricFamily(
                "trustdesk_job_consecutive_failures", "Failed runs of a job in a row (0 after a success)", labels=labels
            ),
            "last": GaugeMetricFamily(
                "trustdesk_job_last_run_timestamp_seconds", "When a job's last run finished (Unix time)", labels=labels
            ),
            "next": GaugeMetricFamily(
                "trustdesk_job_next_run_timestamp_seconds", "When a job runs next (Unix time)", labels=labels
            ),
            "duration": GaugeMetricFamily("trustdesk_job_last_duration_seconds", "How long a job's last run took", labels=labels),
            "ok": GaugeMetricFamily(
                "trustdesk_job_last_run_ok", "1 when a job's last run succeeded, 0 when it failed", labels=labels
            ),
        }
        for row in states(self.db):
            self._add(families, row)
        yield from families.values()

    @staticmethod
    def _add(families: dict[str, Any], row: JobState) -> None:
        name = [row.name]
        families["runs"].add_metric(name, row.runs)
        families["failures"].add_metric(name, row.failures)
        families["streak"].add_metric(name, row.consecutive_failures)
        families["next"].add_metric(name, row.next_run_at.timestamp())
        if row.last_finished_at is not None:
            families["last"].add_metric(name, row.last_finished_at.timestamp())
            families["duration"].add_metric(name, (row.last_duration_ms or 0) / 1000)
            families["ok"].add_metric(name, 1 if row.last_outcome == OK else 0)
