"""Pipeline figures for `/metrics`, read from the database at scrape time so that they count
the work of every worker process, wherever it runs, not just this one's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.safety.pipeline import deadletters
from trustdesk.safety.pipeline.models import HandledEvent, RuleHit

LAG_SAMPLE = 1000


def rule_hit_counts(session: Session) -> list[tuple[str, bool, int]]:
    query = select(RuleHit.rule, RuleHit.shadow, func.count()).group_by(RuleHit.rule, RuleHit.shadow).order_by(RuleHit.rule)
    return [(rule, bool(shadow), n) for rule, shadow, n in session.execute(query)]


def recent_lag_seconds(session: Session) -> tuple[float, float]:
    """Median and maximum of (handled - occurred) over the latest events: how far behind the
    pipeline is running."""
    rows = session.execute(
        select(HandledEvent.occurred_at, HandledEvent.handled_at).order_by(HandledEvent.handled_at.desc()).limit(LAG_SAMPLE)
    ).all()
    if not rows:
        return 0.0, 0.0
    lags = sorted(max(timedelta(0), handled - occurred).total_seconds() for occurred, handled in rows)
    return lags[len(lags) // 2], lags[-1]


def handled_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HandledEvent)) or 0


class PipelineCollector(Collector):
    def __init__(self, container: Any) -> None:
        self.container = container

    def collect(self) -> Iterator[Any]:
        hits = CounterMetricFamily("trustdesk_rule_hits", "Rule hits by rule and mode", labels=["rule", "mode"])
        events = CounterMetricFamily("trustdesk_pipeline_events_handled", "Events handled by the pipeline")
        dead = GaugeMetricFamily("trustdesk_pipeline_dead_letters", "Dead letters waiting for a person")
        lag = GaugeMetricFamily(
            "trustdesk_pipeline_lag_seconds", "Time from event to verdict over the latest events", labels=["quantile"]
        )
        pending = GaugeMetricFamily("trustdesk_pipeline_pending", "Events waiting on the in-process bus")
        with self.container.db.transaction() as session:
            for rule, shadow, n in rule_hit_counts(session):
                hits.add_metric([rule, "shadow" if shadow else "live"], n)
            events.add_metric([], handled_count(session))
            dead.add_metric([], deadletters.count_waiting(session))
            median, worst = recent_lag_seconds(session)
        lag.add_metric(["0.5"], median)
        lag.add_metric(["1"], worst)
        runtime = self.container.pipeline.runtime
        snapshot = getattr(getattr(runtime, "bus", None), "snapshot", None)
        pending.add_metric([], snapshot().pending if snapshot else 0)
        yield from (hits, events, dead, lag, pending)
