"""The DSA report's files against the Commission's Annex I templates (Implementing Regulation
(EU) 2024/2835): the packaged templates are the Commission's files byte for byte; every file
has the template's header, rows, field codes and category codes, with values only where values
go; the figures of a seeded year; every figure traces to the records it counts."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.transparency.conftest import Seeder
from tests.transparency.test_dsa_report import NOW, seed_orders, seed_safety
from trustdesk.legal.policy.jurisdictions import eu_countries
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Appeal, Case
from trustdesk.transparency.reports import annex, service
from trustdesk.transparency.reports.dsa import DsaFacts
from trustdesk.transparency.reports.periods import parse_period

_ROOT = Path(__file__).resolve().parents[2]
SHARED = next(
    (
        p / "shared" / "conformance" / "dsa-transparency-templates"
        for p in (_ROOT.parent, _ROOT.parent.parent)  # beside the checkout, or beside a worktree's folder
        if (p / "shared" / "conformance" / "dsa-transparency-templates").is_dir()
    ),
    _ROOT.parent / "shared" / "conformance" / "dsa-transparency-templates",
)
# SHA-256 of the Commission's CSVs as ../shared/conformance/dsa-transparency-templates/README.md lists them.
SHA256 = {
    1: "355166db774836d59ac3d91994680bcd9821e2c0e1557322b5f3e8f4007a82cd",
    2: "ce1f80280d31da5e7cf4b85bc8da788760991e30696658bab18995c8829efb7b",
    3: "1c4f6d84ac0cea4b306eb05451bc7477bb94ac0e68b672152628b5ae3524245b",
    4: "c9d8986a04c01a6ae4b84583f3479323eceb884489608474c7d0976fb20eb9e6",
    5: "8dc7082e0bfefcbde67323d500a00c65029a85e4a2094e50cba72d4c29767df2",
    6: "423dc6c8bc62109b6efeb94f188066b30cac94227ed8a33beeeac3c25e7c3011",
    7: "c355cf9369a115fa51f9c9626cc7917bc24b48db7d6dc6cff3028c81de388aad",
    8: "1a687f468468b25b214f505c4a6cb906d6ee8cc80d20f5a60eca383cc1bea71d",
    9: "2393d48b65e94d86f769d5cb8e1017ad2516ca0883f7f10b0eabad1bf143cb84",
    10: "cea923187f8eea0ad82c8f562ce3cfcdbd371e64908cb4c6acbfeaf2baf04a75",
    11: "d09603b7b1ec2874595501cd41ace0a02c6ce04a1ba8cbe47fce38849f53020a",
}
PERIOD = "2026-01-01/2026-12-31"
# Per part: the columns that carry values (filled in), by header name prefix or exact name.
VALUE_COLUMNS = {1: {"Value"}, 2: {"Contextual information"}, 7: {"Value", "Contextual Information"}}
VALUE_COLUMNS |= {8: VALUE_COLUMNS[7], 9: {"Value", "Contextual information"}, 10: {"Value"}, 11: {"Value"}}


def _template_rows(number: int) -> tuple[list[str], list[list[str]]]:
    part = next(p for p in annex.load_parts() if p.number == number)
    with (annex.TEMPLATE_DIR / part.template_file).open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    return rows[0], rows[1:]


def _is_value(number: int, header: list[str], col: int) -> bool:
    if number in (3, 4, 5, 6):
        return col >= (6 if number == 3 else 5)
    return header[col] in VALUE_COLUMNS[number]


def _parse(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "RFC 4180: every line ends in CRLF"
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no conformance copy at {SHARED}")
def test_the_packaged_templates_are_the_commissions_files() -> None:
    for part in annex.load_parts():
        packaged = (annex.TEMPLATE_DIR / part.template_file).read_bytes()
        assert packaged == (SHARED / part.template_file).read_bytes(), part.template_file
        assert hashlib.sha256(packaged).hexdigest() == SHA256[part.number], part.template_file


def test_placeholder_rows_expand_to_every_member_state_and_language() -> None:
    parts = {p.number: p for p in annex.load_parts()}
    states = set(eu_countries())
    part3 = annex.expand_scopes(parts[3])
    assert len(part3) == 91 + 90 * 27
    assert {r[5] for r in part3} == {"TOTAL", *states}
    part8 = annex.expand_scopes(parts[8])
    for indicator in ("Accuracy", "Precision", "Recall"):
        scopes = [r[5] for r in part8 if r[4] == f"Accuracy of the automated means - {indicator}" and len(r[5]) == 2]
        assert scopes == list(annex.LANGUAGES), indicator  # each language once, in the template's bg ... sv order
    assert [r[5] for r in annex.expand_scopes(parts[10])] == ["TOTAL", *annex.member_states()]
    assert annex.member_states()[0] == "AT" and annex.member_states()[-1] == "SE"


def test_every_file_has_the_templates_columns_rows_and_codes(seed: Seeder) -> None:
    seed_orders(seed)
    seed_safety(seed)
    report = service.dsa_annex(seed.session, period=parse_period("2026"), now=NOW)
    files = {f.name: f for f in service.render(seed.session, kind=service.ReportKind.DSA, period=parse_period("2026"), now=NOW)}
    assert len([n for n in files if n.endswith(".csv")]) == 11
    for part in annex.load_parts():
        header, template = _template_rows(part.number)
        rows = _parse(files[report.file_name(part.number)].content)
        assert rows[0] == header, f"Part {part.number}: the header is the template's, character for character"
        body = rows[1:]
        expected = annex.expand_scopes(part)
        assert len(body) == len(expected), part.number
        for got, want in zip(body, expected, strict=True):
            assert len(got) == len(header)
            for col, (g, w) in enumerate(zip(got, want, strict=True)):
                if _is_value(part.number, header, col):
                    continue
                if w == "YYYY-MM-DD/YYYY-MM-DD":
                    assert g == PERIOD
                elif w == 'Text to detail the "Other" keyword.':
                    assert g in ("", annex.OTHER_DESCRIPTION)
                else:
                    assert g == w, (part.number, header[col], g, w)
        # Every row of the template (less its placeholder rows) is there, in the template's order.
        plain = [r for r in template if not {"AT, […], SE", "[...]", "bg", "sv", "AT", "SE"} & set(r)]
        keyed = [tuple(c for i, c in enumerate(r) if not _is_value(part.number, header, i) and i != 2 and i != 4) for r in body]
        wanted = [tuple(c for i, c in enumerate(r) if not _is_value(part.number, header, i) and i != 2 and i != 4) for r in plain]
        position = 0
        for key in wanted:
            position = keyed.index(key, position) + 1


def _cell(report: annex.AnnexReport, number: int, match: dict[str, str], column: str) -> str:
    part = report.part(number)
    header = part.part.header
    found = [r for r in part.rows if all(r[header.index(k)] == v for k, v in match.items())]
    assert len(found) == 1, (number, match, len(found))
    return found[0][header.index(column)]


def test_the_figures_of_a_seeded_year(seed: Seeder) -> None:
    seed_orders(seed)
    seed_safety(seed)
    report = service.dsa_annex(seed.session, period=parse_period("2026"), now=NOW)
    h3 = report.part(3).part.header
    total = {"Category of illegal content": "TOTAL", "Scope": "TOTAL"}
    assert [_cell(report, 3, total, h3[c]) for c in range(6, 13)] == ["2", "2", "0.25", "3.50", "1", "0.00", "20.00"]
    assert _cell(report, 3, {"Category of illegal content": "TOTAL", "Scope": "DE"}, h3[6]) == "1"
    assert _cell(report, 3, {"Category of illegal content": "TOTAL", "Scope": "FR"}, h3[10]) == "1"
    assert _cell(report, 3, {"Category of illegal content": "TOTAL", "Scope": "IT"}, h3[6]) == "0"
    h4 = report.part(4).part.header
    assert [_cell(report, 4, {"Category of illegal content": "TOTAL"}, h4[c]) for c in range(5, 15)] == [
        "5", "1", "5", "1", "3.50", "2.00", "1", "0", "1", "1",
    ]  # fmt: skip
    assert _cell(report, 4, {"Category of illegal content": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}, h4[5]) == "2"
    h5, h6 = report.part(5).part.header, report.part(6).part.header
    assert _cell(report, 5, {h5[3]: "TOTAL"}, h5[5]) == "1" and _cell(report, 5, {h5[3]: "TOTAL"}, h5[6]) == "0"
    assert _cell(report, 6, {h6[3]: "TOTAL"}, h6[5]) == "3" and _cell(report, 6, {h6[3]: "TOTAL"}, h6[6]) == "3"
    assert _cell(report, 6, {h6[3]: "TOTAL"}, "Account restriction Suspension") == "1"
    internal = {"Indicator": "Number of complaints submitted to the internal-complaints mechanism"}
    assert [_cell(report, 7, {**internal, "Scope": s}, "Value") for s in ("Total number", "Decisions upheld", "Decisions reversed", "Median time", "Decision omitted")] == [
        "3", "1", "1", "24.00", "1",
    ]  # fmt: skip
    solely = {"Indicator": "Number of measures solely taken by automated means ", "Scope": "Total number"}
    assert _cell(report, 8, solely, "Value") == "2"
    precision = {"Indicator": "Accuracy of the automated means - Precision", "Scope": "Total number"}
    assert _cell(report, 8, precision, "Value") == "0.5000"  # one of two tool-opened cases acted on
    assert _cell(report, 8, {**precision, "Scope": "bg"}, "Value") == ""  # a VLOP-only row, blank for a platform
    assert _cell(report, 1, {"Indicator": "Starting date of reporting period"}, "Value") == "2026-01-01"
    assert _cell(report, 1, {"Indicator": "Ending date of reporting period"}, "Value") == "2026-12-31"
    assert all(r[6] == "" for r in report.part(10).rows) and all(r[6] == "" for r in report.part(9).rows)


def test_sub_categories_add_up_to_their_category_and_categories_to_the_total(seed: Seeder) -> None:
    seed_orders(seed)
    seed_safety(seed)
    report = service.dsa_annex(seed.session, period=parse_period("2026"), now=NOW)
    for number, column in ((4, 5), (5, 5), (6, 5), (6, 7)):
        rows = report.part(number).rows
        slots = annex.Slots([r[3] for r in rows])
        for index, row in enumerate(rows):
            if row[3] == "TOTAL" or row[3].startswith("STATEMENT_CATEGORY_"):
                leaves = slots.rows_of(index)
                unplaced = 0
                if row[3] == "TOTAL":  # an item whose category has no row in the part counts in TOTAL only, and says so
                    note = next((c for c in row if "counted in TOTAL only" in c), "")
                    unplaced = int(note.split()[0]) if note else 0
                assert int(row[column]) == sum(int(rows[i][column]) for i in leaves) + unplaced, (number, row[3])
        if number == 4:  # the spam notice (terms and conditions) has no row among illegal content
            assert "1 counted in TOTAL only" in ",".join(rows[0])


def test_every_figure_traces_to_the_records_it_counts(seed: Seeder) -> None:
    seed_orders(seed)
    seed_safety(seed)
    report = service.dsa_annex(seed.session, period=parse_period("2026"), now=NOW)
    models = {"notice": Notice, "action": EnforcementAction, "appeal": Appeal, "case": Case}
    traced = annex.trace_rows(report)
    assert traced
    for name, line, column, value, records in traced:
        refs = records.split()
        for ref in refs:
            kind, _, ident = ref.partition(":")
            if kind in models:
                assert seed.session.get(models[kind], int(ident)) is not None, ref
        if value.isdigit() and "specific items" not in column:
            assert int(value) == len(refs), (name, line, column)
    notices = [t for t in traced if t[0].endswith("4_notices.csv") and t[1] == 2 and t[2] == "Number of notices received "]
    assert len(notices) == 1 and len(notices[0][4].split()) == 5
    # Every non-zero count of the files is traced.
    for part in report.parts:
        for r, row in enumerate(part.rows):
            for c, value in enumerate(row):
                if value.isdigit() and value != "0" and part.part.number not in (1,):
                    assert (r, c) in part.refs or part.part.header[c].startswith("Number of restrictions"), (
                        part.part.number,
                        r,
                        c,
                    )
    assert service.dsa_trace(seed.session, period=parse_period("2026"), now=NOW).startswith(b"file,line,column,value,records\r\n")


def test_rows_that_do_not_apply_are_blank_and_rows_that_apply_are_zero() -> None:
    facts = DsaFacts([], [], [], [], [])
    period = parse_period("2026")
    hosting = annex.build(
        facts, period=period, provider=annex.Provider("X", annex.ProviderKind.HOSTING), published=date(2027, 1, 2)
    )
    upheld = {"Indicator": "Number of complaints submitted to the internal-complaints mechanism", "Scope": "Decisions upheld"}
    assert _cell(hosting, 7, upheld, "Value") == ""  # online platforms only
    assert _cell(hosting, 7, {**upheld, "Scope": "Total number"}, "Value") == "0"  # all providers
    assert _cell(hosting, 4, {"Category of illegal content": "TOTAL"}, "Number of notices received ") == "0"
    vlop = annex.build(facts, period=period, provider=annex.Provider("X", annex.ProviderKind.VLOP), published=date(2027, 1, 2))
    assert _cell(vlop, 7, upheld, "Value") == "0"
    assert _cell(vlop, 1, {"Indicator": "Name of the service provider"}, "Value") == "X"
    assert _cell(vlop, 1, {"Indicator": "Date of the publication of the latest previous report"}, "Value") == ""


def test_accuracy_figures_come_from_the_given_indicators() -> None:
    given = {annex.SCOPE_TOTAL: annex.Accuracy(Decimal("0.9"), Decimal("0.81234"), None, "labelled sample of 40", ("case:1",))}
    report = annex.build(
        DsaFacts([], [], [], [], []),
        period=parse_period("2026"),
        provider=annex.Provider("X"),
        published=date(2027, 1, 2),
        accuracy=given,
    )
    row = {"Indicator": "Accuracy of the automated means - Precision", "Scope": "Total number"}
    assert _cell(report, 8, row, "Value") == "0.8123"
    assert _cell(report, 8, row, "Contextual Information") == "labelled sample of 40"
    assert _cell(report, 8, {**row, "Indicator": "Accuracy of the automated means - Recall"}, "Value") == ""
