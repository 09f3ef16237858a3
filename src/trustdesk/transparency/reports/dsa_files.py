"""The DSA report's files: the eleven CSV parts of the Commission's Annex I templates
(`annex`, RFC 4180, one file per sheet of the Commission's workbook), the same parts as the
Commission's XLSX workbook (`annex_workbook`, one sheet per part, from the same figures) and
the HTML page for people, with tables and charts read from the long-form figures (`dsa.figures`) of the same
facts."""

from __future__ import annotations

import pycountry

from trustdesk.transparency.reports import annex, annex_workbook, dsa_accuracy
from trustdesk.transparency.reports.charts import Bar, bar_chart
from trustdesk.transparency.reports.documents import RenderedFile, category_label, render_html
from trustdesk.transparency.reports.dsa import ALL, CATEGORIES, DsaReport, Measure
from trustdesk.transparency.reports.template import load_template

RESTRICTIONS = ("visibility", "provision", "account", "monetary")
RESTRICTION_LABELS = {
    "visibility": "Visibility of content",
    "provision": "Provision of the service",
    "account": "Account suspended or terminated",
    "monetary": "Monetary payments",
}


def html_name(period: str) -> str:
    return f"dsa-transparency-{period}.html"


def files(report: DsaReport, annex_report: annex.AnnexReport) -> list[RenderedFile]:
    """The Annex I parts in the template's order, the workbook, then the page."""
    csvs = [RenderedFile(annex_report.file_name(p.part.number), annex.render_part(p)) for p in annex_report.parts]
    workbook = RenderedFile(annex_report.workbook_name, annex_workbook.render(annex_report))
    html = render_html(
        "transparency/report_dsa.html",
        report=report,
        view=view(report),
        template=load_template(),
        csv_names=[f.name for f in csvs],
        workbook_name=workbook.name,
    )
    return [*csvs, workbook, RenderedFile(html_name(report.period.label), html)]


def _state_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return "All Member States" if code == ALL else (country.name if country else code)


def _orders(report: DsaReport, table: str) -> dict:
    states = sorted({f.member_state for f in report.table(table) if f.member_state != ALL})
    categories = [c for c in CATEGORIES if report.value(table, category=c)]
    return {
        "total": report.value(table),
        "states": [(s, _state_name(s), report.value(table, member_state=s)) for s in states],
        "categories": [(category_label(c), report.value(table, category=c)) for c in categories],
        "chart": bar_chart("Orders by Member State", [Bar(_state_name(s), report.count(table, member_state=s)) for s in states]),
    }


def _order_times(report: DsaReport) -> list[tuple]:
    rows = []
    for f in report.table("ORD.3"):
        if f.measure is Measure.MEDIAN_HOURS_TO_CONFIRM:
            effect = report.value(
                "ORD.3", member_state=f.member_state, breakdown=f.breakdown, measure=Measure.MEDIAN_HOURS_TO_EFFECT
            )
            rows.append(
                (
                    "Orders to act" if f.breakdown == "act" else "Orders to provide information",
                    _state_name(f.member_state),
                    f.value,
                    effect,
                )
            )
    return rows


def _notices(report: DsaReport) -> dict:
    rows = [
        (
            category_label(c),
            report.count("NOT.1", category=c),
            report.value("NOT.1", category=c, breakdown="trusted_flagger"),
            _get(report, "NOT.2", c, "law"),
            _get(report, "NOT.2", c, "terms"),
        )
        for c in CATEGORIES
    ]
    shown = [r for r in rows if r[1]]
    return {
        "rows": shown,
        "total": report.value("NOT.1"),
        "trusted": report.value("NOT.1", breakdown="trusted_flagger"),
        "law": _get(report, "NOT.2", ALL, "law"),
        "terms": _get(report, "NOT.2", ALL, "terms"),
        "no_action": report.value("NOT.2", breakdown="no_action"),
        "pending": report.value("NOT.2", breakdown="pending"),
        "automated": report.value("NOT.3", breakdown="automated"),
        "automated_share": report.value("NOT.3", breakdown="automated", measure=Measure.SHARE),
        "median": report.value("NOT.3", measure=Measure.MEDIAN_HOURS_TO_ACTION),
        "median_trusted": report.value("NOT.3", breakdown="trusted_flagger", measure=Measure.MEDIAN_HOURS_TO_ACTION),
        "chart": bar_chart("Notices by type of alleged illegal content", [Bar(r[0], r[1]) for r in shown]),
    }


def _get(report: DsaReport, table: str, category: str, breakdown: str) -> int:
    """A count that the report lists only where it is not zero."""
    figure = report.index.get((table, category, ALL, breakdown, Measure.COUNT.value))
    return 0 if figure is None else int(figure.value or 0)


def _own(report: DsaReport) -> dict:
    rows = [
        (
            category_label(c),
            _get(report, "OWN.1", c, "automated"),
            _get(report, "OWN.1", c, "manual"),
            report.value("OWN.1", category=c),
        )
        for c in CATEGORIES
        if report.value("OWN.1", category=c)
    ]
    restrictions = [(RESTRICTION_LABELS[r], report.count("OWN.2", breakdown=r)) for r in RESTRICTIONS]
    return {
        "rows": rows,
        "total": report.value("OWN.1"),
        "automated": _get(report, "OWN.1", ALL, "automated"),
        "manual": _get(report, "OWN.1", ALL, "manual"),
        "restrictions": restrictions,
        "law": report.value("OWN.3", breakdown="law"),
        "terms": report.value("OWN.3", breakdown="terms"),
        "chart": bar_chart(
            "Own-initiative measures by type of restriction", [Bar(label, n) for label, n in restrictions], colour=1
        ),
    }


def _complaints(report: DsaReport) -> dict:
    outcomes = [
        ("Decision confirmed", report.count("COM.2", breakdown="confirmed")),
        ("Decision reversed", report.count("COM.2", breakdown="reversed")),
        ("Not yet decided", report.count("COM.2", breakdown="pending")),
    ]
    return {
        "total": report.value("COM.1"),
        "by_restriction": [(RESTRICTION_LABELS[r], report.value("COM.1", breakdown=r)) for r in RESTRICTIONS],
        "outcomes": outcomes,
        "reversed_share": report.value("COM.2", breakdown="reversed", measure=Measure.SHARE),
        "median": report.value("COM.2", measure=Measure.MEDIAN_HOURS_TO_DECIDE),
        "chart": bar_chart("Complaint outcomes", [Bar(label, n) for label, n in outcomes], colour=2),
    }


TOOL_LABELS = {
    "hash_match": "Hash matching",
    "rule": "Rules and classifiers",
    "strikes": "Strike thresholds",
    "other": "Other automated means",
    ALL: "All automated means",
}


def _tools(report: DsaReport, table: str, wrong: str) -> list[tuple]:
    tools = [f.breakdown for f in report.table(table) if f.measure is Measure.COUNT and ":" not in f.breakdown]
    return [
        (
            TOOL_LABELS.get(t, t),
            report.value(table, breakdown=t),
            report.value(table, breakdown=f"{t}:{wrong}"),
            report.value(table, breakdown=f"{t}:{wrong}", measure=Measure.SHARE),
        )
        for t in tools
    ]


def view(report: DsaReport) -> dict:
    """What the HTML page shows, section by section."""
    return {
        "act": _orders(report, "ORD.1"),
        "information": _orders(report, "ORD.2"),
        "order_times": _order_times(report),
        "notices": _notices(report),
        "own": _own(report),
        "complaints": _complaints(report),
        "decisions": _tools(report, "AUT.1", "reversed"),
        "reviews": _tools(report, "AUT.2", "overturned"),
        "accuracy": dsa_accuracy.view(report),  # issue #22
    }
