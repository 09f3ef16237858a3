"""The DSA outbox's figures for `/metrics`, read from the database at scrape time (so that
they count every submitter's work): statements by state, how long the oldest waiting one
has waited, and how many last got no answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from trustdesk.safety.enforcement import dsa_submission


class DsaOutboxCollector(Collector):
    def __init__(self, container: Any) -> None:
        self.container = container

    def collect(self) -> Iterator[Any]:
        states = GaugeMetricFamily(
            "trustdesk_dsa_statements", "Statements of reasons by DSA database submission state", labels=["state"]
        )
        backlog = GaugeMetricFamily("trustdesk_dsa_backlog", "Statements waiting to be submitted (pending or sending)")
        oldest = GaugeMetricFamily("trustdesk_dsa_oldest_waiting_seconds", "Age of the oldest statement waiting to be submitted")
        failing = GaugeMetricFamily("trustdesk_dsa_failing", "Waiting statements whose last call got no answer")
        errors = GaugeMetricFamily(
            "trustdesk_dsa_errors", "Statements waiting for a person: rejected by the database or held by our checks"
        )
        with self.container.db.transaction() as session:
            found = dsa_submission.backlog(session)
        now = self.container.clock.now()
        for state, count in found.counts.items():
            states.add_metric([state], count)
        backlog.add_metric([], found.waiting)
        oldest.add_metric([], (now - found.oldest_pending_at).total_seconds() if found.oldest_pending_at else 0.0)
        failing.add_metric([], found.failing)
        errors.add_metric([], sum(found.counts.get(state, 0) for state in dsa_submission.FOR_A_PERSON))
        yield from (states, backlog, oldest, failing, errors)
