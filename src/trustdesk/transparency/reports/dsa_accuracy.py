"""Table AUT.3 of the DSA report (issue #22): the accuracy and error rates that the quality
room measures (`trustdesk.safety.quality.indicators.accuracy_indicators`), as figures of the
report. For each means: its sample size, the errors found, the error rate and the accuracy
in per cent, each rate with its 95 % Wilson interval. Kept apart from `dsa.py` so that the
report's template layout and the quality measurements change independently."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from trustdesk.safety.quality.indicators import AccuracyIndicators
from trustdesk.safety.quality.metrics import Rate
from trustdesk.transparency.reports import annex
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


def annex_accuracy(indicators: AccuracyIndicators, fallback: Mapping[str, annex.Accuracy]) -> dict[str, annex.Accuracy]:
    """Part 8's accuracy figures by scope (issue #22 item 2): accuracy of the automated means
    from the blind re-reviewed, senior-labelled samples of the period, with the sample size
    and its 95 % Wilson interval in the context; precision from the fallback (reviewers'
    decisions on the cases automated means opened) where there is one. A scope whose sample is
    empty keeps only what the fallback measured."""
    automated = indicators.get("automated")
    rate = automated.accuracy
    result = dict(fallback)
    if rate.trials == 0:
        return result
    share = Decimal(rate.successes) / Decimal(rate.trials)
    interval = f"{rate.low}-{rate.high} %" if rate.low is not None else "n/a"
    context = (
        f"Accuracy on {rate.trials} blind re-reviewed samples of automated decisions with a senior's final label "
        f"({rate.successes} correct; 95 % Wilson interval {interval})."
    )
    for scope in (annex.SCOPE_TOTAL, annex.SCOPE_OWN):
        given = fallback.get(scope)
        result[scope] = annex.Accuracy(
            accuracy=share.quantize(Decimal("0.0001")),
            precision=given.precision if given else None,
            recall=None,
            context=" ".join(filter(None, [context, given.context if given else ""])),
            refs=tuple(given.refs if given else ()),
        )
    return result
