"""Table AUT.3 of the DSA report (issue #22): the accuracy and error rates that the quality
room measures (`trustdesk.safety.quality.indicators.accuracy_indicators`), as figures of the
report. For each means: its sample size, the errors found, the error rate and the accuracy
in per cent, each rate with its 95 % Wilson interval. Kept apart from `dsa.py` so that the
report's template layout and the quality measurements change independently."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from trustdesk.safety.quality.indicators import AccuracyIndicators
from trustdesk.safety.quality.metrics import Rate
from trustdesk.transparency.reports.dsa import ALL, DsaReport, Figure, Measure

TABLE = "AUT.3"
LABELS = {
    "automated": "All automated means",
    "automated:rule": "Rules",
    "automated:bank": "Hash matching",
    "automated:classifier": "Classifiers",
    "human": "Human moderators",
    "automated:complaints": "Automated decisions, on complaint",
    "human:complaints": "Human decisions, on complaint",
}


def _rate(means: str, name: str, rate: Rate) -> list[Figure]:
    return [
        Figure(TABLE, ALL, ALL, f"{means}:{name}", Measure.COUNT, rate.successes),
        Figure(TABLE, ALL, ALL, f"{means}:{name}", Measure.SHARE, rate.percent),
        Figure(TABLE, ALL, ALL, f"{means}:{name}", Measure.CI95_LOW, rate.low),
        Figure(TABLE, ALL, ALL, f"{means}:{name}", Measure.CI95_HIGH, rate.high),
    ]


def figures(indicators: AccuracyIndicators) -> list[Figure]:
    rows = []
    for i in indicators.indicators:
        rows.append(Figure(TABLE, ALL, ALL, i.means, Measure.COUNT, i.sample_size))
        rows += _rate(i.means, "errors", i.error)
        rows += _rate(i.means, "correct", i.accuracy)
    return rows


def with_accuracy(report: DsaReport, indicators: AccuracyIndicators) -> DsaReport:
    return replace(report, figures=[*report.figures, *figures(indicators)])


def _value(report: DsaReport, breakdown: str, measure: Measure) -> Decimal | int | None:
    figure = report.index.get((TABLE, ALL, ALL, breakdown, measure.value))
    return None if figure is None else figure.value


def view(report: DsaReport) -> list[tuple]:
    """(label, sample size, errors, error rate, low, high, accuracy, low, high) per means."""
    counts = [f.breakdown for f in report.table(TABLE) if f.measure is Measure.COUNT]
    means = [m for m in counts if not m.endswith((":errors", ":correct"))]
    return [
        (
            LABELS.get(m, m),
            _value(report, m, Measure.COUNT),
            _value(report, f"{m}:errors", Measure.COUNT),
            _value(report, f"{m}:errors", Measure.SHARE),
            _value(report, f"{m}:errors", Measure.CI95_LOW),
            _value(report, f"{m}:errors", Measure.CI95_HIGH),
            _value(report, f"{m}:correct", Measure.SHARE),
            _value(report, f"{m}:correct", Measure.CI95_LOW),
            _value(report, f"{m}:correct", Measure.CI95_HIGH),
        )
        for m in means
    ]
