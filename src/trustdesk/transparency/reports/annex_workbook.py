"""The DSA report as the Commission's Annex I XLSX workbook (Implementing Regulation (EU)
2024/2835): the same eleven parts as the CSV files (`annex`), one sheet each, from the same
`AnnexReport`, so the workbook and the CSVs cannot disagree.

The Commission's workbook is packaged beside the CSV templates (`data/annex_i/`, byte for
byte; provenance in `../shared/conformance/dsa-transparency-templates/README.md`). Its sheet
names, header rows (the Commission's own cells, checked against the CSV headers when it is
read), column widths and the styles of its header and first body row are read from it once;
each report is a fresh workbook in that shape, filled in row for row as the CSV parts are:

- every template cell that is not a value (applicability, section, indicator, scope, field
  and category codes) is the CSV cell, as text;
- a value cell (a count, a median in hours, a ratio between 0 and 1; Annex II Part I point 4)
  is a number: an integer, or a decimal with the CSV's places as its number format; a blank
  value (a row that does not apply, or nothing measured) is an empty cell;
- dates (Part 1) and the reporting period stay text in `YYYY-MM-DD` form, as Annex II writes
  them, so no spreadsheet turns them into its own date format.

The bytes depend only on the report: the ZIP entries and the document properties carry the
period's last day, not the time of writing."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.transparency.reports import annex

TEMPLATE_WORKBOOK = annex.TEMPLATE_DIR / "Annex_I__Transparency_reports_templates_ME0vKI0A1K5vzNvP3VciJ7y26R4_109690.xlsx"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+\.(\d+)")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass(frozen=True)
class Style:
    font: Any
    fill: Any
    border: Any
    alignment: Any


@dataclass(frozen=True)
class SheetShape:
    """What a sheet of the Commission's workbook looks like, without its placeholder rows."""

    title: str
    header: tuple[str, ...]
    widths: tuple[tuple[str, float], ...]
    header_styles: tuple[Style, ...]
    body_styles: tuple[Style, ...]
    filtered: bool


def _style(cell: Any) -> Style:
    return Style(copy(cell.font), copy(cell.fill), copy(cell.border), copy(cell.alignment))


def read_header(sheet: Any) -> tuple[str, ...]:
    """The header row as the sheet has it, less its empty trailing cells."""
    cells = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
        cells.pop()
    return tuple("" if c is None else str(c) for c in cells)


@cache
def template_shapes(path: Path = TEMPLATE_WORKBOOK) -> tuple[SheetShape, ...]:
    """The Commission workbook's sheets, in the template's part order. ValueError where a sheet
    is missing or its header is not the CSV template's, cell for cell."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    shapes = []
    for part in annex.load_parts():
        if part.sheet not in book.sheetnames:
            raise ValueError(f"the Annex I workbook has no sheet {part.sheet!r}")
        sheet = book[part.sheet]
        header = read_header(sheet)
        if header != part.header:
            raise ValueError(f"the Annex I workbook's sheet {part.sheet!r} has another header than {part.template_file}")
        width = len(header)
        shapes.append(
            SheetShape(
                title=part.sheet,
                header=header,
                widths=tuple(
                    (letter, float(dim.width)) for letter, dim in sheet.column_dimensions.items() if dim.width and dim.customWidth
                ),
                header_styles=tuple(_style(sheet.cell(row=1, column=c)) for c in range(1, width + 1)),
                body_styles=tuple(_style(sheet.cell(row=2, column=c)) for c in range(1, width + 1)),
                filtered=bool(sheet.auto_filter.ref),
            )
        )
    book.close()
    return tuple(shapes)


def typed(value: str, *, figure: bool) -> tuple[int | Decimal | str | None, str | None]:
    """A CSV cell as a workbook cell: (value, number format)."""
    if value == "":
        return None, None
    if figure:
        if _INTEGER.fullmatch(value):
            return int(value), "0"
        decimal = _DECIMAL.fullmatch(value)
        if decimal:
            return Decimal(value), "0." + "0" * len(decimal.group(1))
    return value, None


def _fill(sheet: Any, shape: SheetShape, part: annex.PartOutput) -> None:
    from openpyxl.utils import get_column_letter

    sheet.append(list(shape.header))
    for col, style in enumerate(shape.header_styles, start=1):
        _apply(sheet.cell(row=1, column=col), style)
    # One style per (column, number format), made once on a cell and then shared by index:
    # styling each of a part's ~50,000 cells on its own takes openpyxl most of a minute.
    made: dict[tuple[int, str], Any] = {}
    for r, row in enumerate(part.rows, start=2):
        for c, text in enumerate(row, start=1):
            value, number_format = typed(text, figure=(r - 2, c - 1) in part.figures)
            cell = sheet.cell(row=r, column=c, value=value)
            key = (c, number_format or ("@" if isinstance(value, str) else "General"))
            shared = made.get(key)
            if shared is None:
                _apply(cell, shape.body_styles[c - 1])
                cell.number_format = key[1]  # text stays text (codes, and dates written YYYY-MM-DD)
                made[key] = copy(cell._style)
            else:
                cell._style = copy(shared)
    for letter, width in shape.widths:
        sheet.column_dimensions[letter].width = width
    if shape.filtered:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(shape.header))}{len(part.rows) + 1}"


def _apply(cell: Any, style: Style) -> None:
    cell.font, cell.fill, cell.border, cell.alignment = (
        copy(style.font),
        copy(style.fill),
        copy(style.border),
        copy(style.alignment),
    )


def _stable(content: bytes, when: datetime) -> bytes:
    """The same ZIP with every entry dated `when`: the bytes depend on the report only."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl dates `modified` at the time of saving
                data = _MODIFIED.sub(rb"\g<1>" + when.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
            target.writestr(info, data)
    return out.getvalue()


def render(report: annex.AnnexReport, shapes: Sequence[SheetShape] | None = None) -> bytes:
    """The workbook's bytes: one sheet per part, in the template's order and names."""
    from openpyxl import Workbook

    shapes = template_shapes() if shapes is None else shapes
    book = Workbook()
    book.remove(book.active)
    for shape, part in zip(shapes, report.parts, strict=True):
        if shape.title != part.part.sheet:
            raise ValueError(f"sheet {shape.title!r} against part {part.part.sheet!r}")
        _fill(book.create_sheet(shape.title), shape, part)
    last_day = (report.period.end - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    book.properties.creator = "Trustdesk"
    book.properties.title = f"DSA transparency report {report.period.label} (Annex I, Implementing Regulation (EU) 2024/2835)"
    book.properties.created = book.properties.modified = last_day
    buffer = io.BytesIO()
    book.save(buffer)
    return _stable(buffer.getvalue(), last_day)
