"""The DSA report's XLSX workbook against the Commission's Annex I workbook (Implementing
Regulation (EU) 2024/2835): the packaged workbook is the Commission's file byte for byte; the
output has the template's sheets in order, each with the template's header row cell for cell
and its rows, field codes and category codes; its figures are the CSV files' figures, cell for
cell (one source of truth); it is offered wherever the CSVs are: the draft, the console and
the public download, with its media type."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from tests.transparency.conftest import ACTOR, Seeder, principal
from tests.transparency.test_annex_templates import PERIOD, SHARED, _is_value, _template_rows
from tests.transparency.test_dsa_report import NOW, seed_orders, seed_safety
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Role
from trustdesk.transparency.reports import annex, annex_workbook, service
from trustdesk.transparency.reports.documents import MEDIA_TYPES
from trustdesk.transparency.reports.dsa import DsaFacts
from trustdesk.transparency.reports.models import TransparencyReport
from trustdesk.transparency.reports.periods import parse_period

# SHA-256 of the Commission's workbook as ../shared/conformance/dsa-transparency-templates/README.md lists it.
WORKBOOK_SHA256 = "e964fc74845cbca8d22c6ba9d1de0b605cffe2eabdd3d598f1bfd80a0e5ee90b"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(sheet) -> list[list[object]]:  # type: ignore[no-untyped-def]
    """A sheet's rows as the CSV has them: trailing empty cells of the sheet's width dropped."""
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _files(seed: Seeder) -> dict[str, bytes]:
    seed_orders(seed)
    seed_safety(seed)
    rendered = service.render(seed.session, kind=service.ReportKind.DSA, period=parse_period("2026"), now=NOW)
    return {f.name: f.content for f in rendered}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no conformance copy at {SHARED}")
def test_the_packaged_workbook_is_the_commissions_file() -> None:
    packaged = annex_workbook.TEMPLATE_WORKBOOK.read_bytes()
    assert packaged == (SHARED / annex_workbook.TEMPLATE_WORKBOOK.name).read_bytes()
    assert hashlib.sha256(packaged).hexdigest() == WORKBOOK_SHA256


def test_the_workbook_has_the_templates_sheets_headers_rows_and_codes(seed: Seeder) -> None:
    files = _files(seed)
    book = load_workbook(io.BytesIO(files["dsa-transparency-2026.xlsx"]))
    template = load_workbook(annex_workbook.TEMPLATE_WORKBOOK, read_only=True)
    assert book.sheetnames == template.sheetnames  # the eleven sheets, named and ordered as the Commission's
    for part in annex.load_parts():
        sheet = book[part.sheet]
        header, _ = _template_rows(part.number)
        assert annex_workbook.read_header(template[part.sheet]) == tuple(header), part.sheet  # the CSV's header is the workbook's
        rows = _rows(sheet)
        assert tuple(rows[0]) == tuple(header), f"{part.sheet}: the header row is the template's, cell for cell"
        expected = annex.expand_scopes(part)
        assert len(rows) - 1 == len(expected), part.sheet
        for got, want in zip(rows[1:], expected, strict=True):
            assert len(got) == len(header)
            for col, (g, w) in enumerate(zip(got, want, strict=True)):
                if _is_value(part.number, header, col):
                    continue
                if w == "YYYY-MM-DD/YYYY-MM-DD":
                    assert g == PERIOD
                elif w == 'Text to detail the "Other" keyword.':
                    assert g in (None, annex.OTHER_DESCRIPTION)
                else:  # applicability, section, indicator, scope, field and category codes: text, as written
                    assert g == (w or None), (part.sheet, header[col], g, w)
    template.close()


def test_the_workbooks_figures_are_the_csv_files_figures(seed: Seeder) -> None:
    files = _files(seed)
    book = load_workbook(io.BytesIO(files["dsa-transparency-2026.xlsx"]))
    numbers = 0
    for part in annex.load_parts():
        text = files[f"dsa-transparency-2026-{part.sheet}.csv"].decode("utf-8")
        csv_rows = list(csv.reader(io.StringIO(text, newline="")))
        sheet_rows = _rows(book[part.sheet])
        assert len(sheet_rows) == len(csv_rows), part.sheet
        for r, (sheet_row, csv_row) in enumerate(zip(sheet_rows, csv_rows, strict=True)):
            for c, (cell, value) in enumerate(zip(sheet_row, csv_row, strict=True)):
                where = (part.sheet, r + 1, csv_row and csv_rows[0][c])
                if value == "":
                    assert cell is None, where
                elif isinstance(cell, int | float):  # a figure: the CSV's number, as a number
                    assert r > 0 and not isinstance(cell, bool)
                    assert Decimal(str(cell)) == Decimal(value), where
                    numbers += 1
                else:
                    assert cell == value, where
        if part.number == 4:  # the notices: counts are integers in the workbook too
            total = next(row for row in sheet_rows if row[3] == "TOTAL")
            assert total[5] == 5 and isinstance(total[5], int)
            assert total[9] == 3.5  # a median in hours, a number with the CSV's two places as its format
            assert book[part.sheet].cell(row=2, column=10).number_format == "0.00"
    assert numbers > 100  # the figures were compared, not skipped
    report = service.dsa_annex(seed.session, period=parse_period("2026"), now=NOW)
    precision = next(
        row
        for row in _rows(book["8_automated_means"])
        if row[4] == "Accuracy of the automated means - Precision" and row[5] == annex.SCOPE_TOTAL
    )
    assert precision[6] == 0.5 and report.workbook_name == "dsa-transparency-2026.xlsx"
    start = next(row for row in _rows(book["1_report_identification"]) if row[2] == "Starting date of reporting period")
    assert start[3] == "2026-01-01"  # a date stays text in the Annex II form, never a spreadsheet date


def test_the_same_records_give_the_same_bytes_and_a_changed_figure_shows() -> None:
    period = parse_period("2026")
    empty = annex.build(DsaFacts([], [], [], [], []), period=period, provider=annex.Provider("X"), published=date(2027, 1, 2))
    first, second = annex_workbook.render(empty), annex_workbook.render(empty)
    assert first == second  # no time of writing inside: a draft made twice from the same records has one SHA-256
    renamed = annex.build(DsaFacts([], [], [], [], []), period=period, provider=annex.Provider("Y"), published=date(2027, 1, 2))
    book = load_workbook(io.BytesIO(annex_workbook.render(renamed)))
    assert book["1_report_identification"]["D2"].value == "Y"
    assert annex_workbook.render(renamed) != first


def test_a_workbook_with_another_header_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    book = load_workbook(annex_workbook.TEMPLATE_WORKBOOK)
    book["4_notices"]["F1"] = "Number of notices"
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    with pytest.raises(ValueError, match="4_notices"):
        annex_workbook.template_shapes(changed)


def test_the_draft_keeps_the_workbook_and_the_console_and_public_page_serve_it(
    client: TestClient, staff, db: Database, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    assert MEDIA_TYPES["xlsx"] == XLSX and len(XLSX) == 65
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    page = client.post("/console/transparency/drafts", data={"kind": "dsa", "period": "2025", "csrf_token": csrf})
    assert page.status_code == 200 and "is ready" in page.text
    with db.transaction() as session:
        draft = session.scalars(select(TransparencyReport).order_by(TransparencyReport.id.desc())).first()
        assert draft is not None
        stored = {f.name: (f.media_type, f.sha256) for f in draft.files}
        draft_id = draft.id
    assert stored["dsa-transparency-2025.xlsx"][0] == XLSX  # the 65-character type fits the column
    console = client.get("/console/transparency")
    assert f"/console/transparency/drafts/{draft_id}/dsa-transparency-2025.xlsx" in console.text
    preview = client.get(f"/console/transparency/drafts/{draft_id}/")
    assert 'href="dsa-transparency-2025.xlsx"' in preview.text
    download = client.get(f"/console/transparency/drafts/{draft_id}/dsa-transparency-2025.xlsx")
    assert download.status_code == 200 and download.headers["content-type"] == XLSX
    assert 'attachment; filename="dsa-transparency-2025.xlsx"' == download.headers["content-disposition"]
    assert hashlib.sha256(download.content).hexdigest() == stored["dsa-transparency-2025.xlsx"][1]
    assert load_workbook(io.BytesIO(download.content)).sheetnames[0] == "1_report_identification"
    published = client.post(f"/console/transparency/drafts/{draft_id}/publish", data={"csrf_token": csrf, "correction_note": ""})
    assert "Published dsa-2025 version 1." in published.text
    public = client.get("/transparency/dsa-2025/1/dsa-transparency-2025.xlsx")
    assert public.status_code == 200 and public.content == download.content and public.headers["content-type"] == XLSX


def test_drafting_needs_the_publish_permission_for_the_workbook_too(db: Database, clock: FrozenClock) -> None:
    from trustdesk.core.errors import Forbidden

    with db.transaction() as session, pytest.raises(Forbidden):
        service.create_draft(session, actor=ACTOR, clock=clock, principal=principal(Role.REVIEWER), kind="dsa", period="2025")
