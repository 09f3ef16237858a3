"""The government-request report's files: CSV (one row per country and a total row), JSON
(the same, with the method and instrument names) and the HTML page with the world table."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from trustdesk.legal.instruments import load_catalogue
from trustdesk.transparency.reports.charts import Bar, bar_chart
from trustdesk.transparency.reports.documents import RenderedFile, render_html
from trustdesk.transparency.reports.figures import show
from trustdesk.transparency.reports.government import CountryFigures, GovernmentReport

COUNTS = ("accounts", "accounts_affected", "valid", "clarified", "narrowed", "refused", "produced", "emergency", "non_disclosure")
SHARES = ("produced_share", "refused_share", "narrowed_share", "emergency_share", "non_disclosure_share")
COLUMN_NAMES = {
    "accounts": "accounts_specified",
    "produced": "data_produced",
    "produced_share": "data_produced_percent",
    "refused_share": "refused_percent",
    "narrowed_share": "narrowed_percent",
    "emergency_share": "emergency_percent",
    "non_disclosure_share": "non_disclosure_percent",
}
CHART_TOP = 15


def file_names(period: str) -> tuple[str, str, str]:
    stem = f"government-requests-{period}"
    return f"{stem}.csv", f"{stem}.json", f"{stem}.html"


def instrument_columns() -> list[str]:
    """Every incoming instrument of the catalogue, so the columns are the same every period."""
    return [str(i.code) for i in load_catalogue().incoming]


def _columns() -> list[str]:
    return [
        "period",
        "country",
        "country_name",
        "requests",
        *[f"requests_{c}" for c in instrument_columns()],
        *[COLUMN_NAMES.get(c, c) for c in COUNTS],
        *[COLUMN_NAMES[s] for s in SHARES],
        "median_hours_to_answer",
    ]


def _row(report: GovernmentReport, figures: CountryFigures) -> list[str]:
    return [
        report.period.label,
        figures.country,
        figures.name,
        str(figures.received),
        *[str(figures.by_instrument.get(c, 0)) for c in instrument_columns()],
        *[str(getattr(figures, c)) for c in COUNTS],
        *[show(getattr(figures, s)) for s in SHARES],
        show(figures.median_hours_to_answer),
    ]


def render_csv(report: GovernmentReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_columns())
    for figures in [*report.countries, report.total]:
        writer.writerow(_row(report, figures))
    return out.getvalue().encode()


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def as_dict(figures: CountryFigures) -> dict[str, Any]:
    data: dict[str, Any] = {
        "country": figures.country,
        "country_name": figures.name,
        "requests": figures.received,
        "requests_by_instrument": dict(sorted(figures.by_instrument.items())),
    }
    data |= {COLUMN_NAMES.get(c, c): getattr(figures, c) for c in COUNTS}
    data |= {COLUMN_NAMES[s]: _number(getattr(figures, s)) for s in SHARES}
    return data | {"median_hours_to_answer": _number(figures.median_hours_to_answer)}


def render_json(report: GovernmentReport) -> bytes:
    document = {
        "report": "government-requests",
        "period": report.period.label,
        "period_start": report.period.start.isoformat(),
        "period_end": report.period.end.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "method": report.source,
        "instruments": {str(i.code): i.name for i in load_catalogue().incoming},
        "total": as_dict(report.total),
        "countries": [as_dict(c) for c in report.countries],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def charts(report: GovernmentReport) -> dict[str, Any]:
    top = report.countries[:CHART_TOP]
    produced = [c for c in top if c.produced_share is not None]
    instruments = sorted(report.total.by_instrument.items(), key=lambda kv: (-kv[1], kv[0]))
    names = {str(i.code): i.name for i in load_catalogue().instruments.values()}
    return {
        "requests": bar_chart("Requests by country", [Bar(c.name, c.received) for c in top]),
        "produced": bar_chart(
            "Share of requests where some data was produced",
            [Bar(c.name, c.produced_share or 0, "%") for c in produced],
            maximum=100,
            colour=1,
        ),
        "instruments": bar_chart(
            "Requests by legal instrument", [Bar(names.get(code, code), n) for code, n in instruments], colour=3
        ),
    }


def files(report: GovernmentReport) -> list[RenderedFile]:
    csv_name, json_name, html_name = file_names(report.period.label)
    names = {str(i.code): i.name for i in load_catalogue().instruments.values()}
    html = render_html(
        "transparency/report_government.html",
        report=report,
        charts=charts(report),
        instrument_names=names,
        csv_name=csv_name,
        json_name=json_name,
    )
    return [
        RenderedFile(csv_name, render_csv(report)),
        RenderedFile(json_name, render_json(report)),
        RenderedFile(html_name, html),
    ]
