"""Pipeline figures for `/metrics`, read from the database at scrape time so that they count
the work of every worker process, wherever it runs, not just this one's: from the workers'
running totals (`PipelineTotal`), a few rows whatever the pipeline has handled, never a count
of every event and rule hit stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trustdesk.safety.pipeline import deadletters
from trustdesk.safety.pipeline.models import HandledEvent, PipelineTotal

LAG_SAMPLE = 1000
EVENTS, HITS = "events", "hits"  # PipelineTotal.figure


def rule_hit_counts(session: Session) -> list[tuple[str, bool, int]]:
    """Rule hits by rule and mode since the pipeline began, summed over the workers' totals."""
    query = (
        select(PipelineTotal.rule, PipelineTotal.shadow, func.sum(PipelineTotal.value))
        .where(PipelineTotal.figure == HITS)
        .group_by(PipelineTotal.rule, PipelineTotal.shadow)
        .order_by(PipelineTotal.rule, PipelineTotal.shadow)
    )
    return [(rule, bool(shadow), int(n)) for rule, shadow, n in session.execute(query)]


def add_totals(session: Session, *, worker: str, events: int, hits: Counter[tuple[str, bool]]) -> None:
    """Add one batch's counts to this worker's totals, in the batch's transaction."""
    rows = [{"worker": worker, "figure": EVENTS, "rule": "", "shadow": False, "value": events}]
    rows += [{"worker": worker, "figure": HITS, "rule": r, "shadow": sh, "value": n} for (r, sh), n in sorted(hits.items())]
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make(PipelineTotal)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["worker", "figure", "rule", "shadow"], set_={"value": PipelineTotal.value + statement.excluded.value}
        ),
        rows,
    )


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
    """Events handled since the pipeline began, summed over the workers' totals."""
    total = session.scalar(select(func.sum(PipelineTotal.value)).where(PipelineTotal.figure == EVENTS))
    return int(total or 0)


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
