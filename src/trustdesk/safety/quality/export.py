"""The quality figures as API shapes and as CSV (RFC 4180, CRLF): one row per group and
measure, with the counts and the interval beside every rate, so that each can be recomputed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.quality.metrics import Group, QualityMetrics, Rate
from trustdesk.safety.quality.schemas import GroupRead, MetricsRead, PrecisionRead, RateRead

CSV_COLUMNS = ("start", "end", "dimension", "key", "measure", "successes", "trials", "percent", "ci95_low", "ci95_high", "value")
MAX_DAYS = 3 * 366


def interval(start: date | None, end: date | None, *, today: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC from two dates (end exclusive); the last 90 days by default."""
    stop = end or today + timedelta(days=1)
    begin = start or stop - timedelta(days=90)
    if begin >= stop:
        raise InvalidInput("'from' must be before 'to'.", field="from")
    if (stop - begin).days > MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days at a time.", field="to")
    return datetime.combine(begin, time(), UTC), datetime.combine(stop, time(), UTC)


def rate_read(rate: Rate) -> RateRead:
    return RateRead(successes=rate.successes, trials=rate.trials, percent=rate.percent, ci95_low=rate.low, ci95_high=rate.high)


def group_read(group: Group) -> GroupRead:
    return GroupRead(
        key=group.key,
        decisions=group.decisions,
        median_hours_to_decision=group.median_hours_to_decision,
        sampled=group.sampled,
        agreement=rate_read(group.agreement),
        accuracy=rate_read(group.accuracy),
        error=rate_read(group.error),
        overturn_on_appeal=rate_read(group.overturn),
    )


def metrics_read(m: QualityMetrics) -> MetricsRead:
    return MetricsRead(
        start=m.start,
        end=m.end,
        total=group_read(m.total),
        by_policy=[group_read(g) for g in m.by_policy],
        by_period=[group_read(g) for g in m.by_period],
        precision=[PrecisionRead(source=p.source, detector=p.detector, precision=rate_read(p.precision)) for p in m.precision],
        waiting=m.waiting,
    )


def _show(value: object) -> str:
    return "" if value is None else str(value)


def _rate_row(m: QualityMetrics, dimension: str, key: str, measure: str, rate: Rate) -> list[str]:
    return [
        f"{m.start:%Y-%m-%d}",
        f"{m.end:%Y-%m-%d}",
        dimension,
        key,
        measure,
        str(rate.successes),
        str(rate.trials),
        _show(rate.percent),
        _show(rate.low),
        _show(rate.high),
        "",
    ]


def _group_rows(m: QualityMetrics, dimension: str, g: Group) -> list[list[str]]:
    head = [f"{m.start:%Y-%m-%d}", f"{m.end:%Y-%m-%d}", dimension, g.key]
    return [
        [*head, "decisions", "", "", "", "", "", str(g.decisions)],
        [*head, "median_hours_to_decision", "", "", "", "", "", _show(g.median_hours_to_decision)],
        [*head, "sampled", "", "", "", "", "", str(g.sampled)],
        _rate_row(m, dimension, g.key, "agreement", g.agreement),
        _rate_row(m, dimension, g.key, "accuracy", g.accuracy),
        _rate_row(m, dimension, g.key, "error_rate", g.error),
        _rate_row(m, dimension, g.key, "overturn_on_appeal", g.overturn),
    ]


def render_csv(m: QualityMetrics) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = _group_rows(m, "all", m.total)
    for g in m.by_policy:
        rows += _group_rows(m, "policy", g)
    for g in m.by_period:
        rows += _group_rows(m, "period", g)
    rows += [_rate_row(m, f"precision:{p.source}", p.detector, "precision", p.precision) for p in m.precision]
    writer.writerows(rows)
    return out.getvalue().encode()
