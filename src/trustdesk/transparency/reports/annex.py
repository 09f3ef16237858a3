"""The DSA report as the Commission's own Annex I templates (Implementing Regulation (EU)
2024/2835): the eleven CSV parts, each filled in from the template file itself.

The templates are in `data/annex_i/`, byte for byte the Commission's English CSVs (the
provenance is `../shared/conformance/dsa-transparency-templates/README.md`; the tests compare
the two copies). Writing a part reads its template row by row and keeps every cell that is not
a value (applicability, section, indicator, scope, category code, header) exactly as written;
it fills only the value cells, the reporting period and the "Other" description, and expands
the template's three kinds of placeholder rows:

- Part 3's `AT, [...], SE` scope: one row per Member State;
- the `bg`, `[...]`, `sv` rows of Parts 8 and 9: one row per official language of the Union
  (Part 8's accuracy block writes these three rows with three indicators, three times; it is
  read as Accuracy, Precision and Recall, each per language, written once);
- Part 10's `AT`, `[...]`, `SE` rows: one row per Member State.

Every value cell knows the records it counts (`Cell.refs`, e.g. `notice:12`): `trace_rows`
lists them, so that each published figure can be recomputed from the records.

Annex II Part I: a row that does not apply to the provider is left blank; where it applies
and nothing happened the value is 0; counts are integers, percentages decimals between 0 and
1, median times in hours; the period is `YYYY-MM-DD/YYYY-MM-DD`; the files are RFC 4180 CSV
in UTF-8 (CRLF line ends, fields quoted where needed)."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path

from trustdesk.legal.policy.jurisdictions import eu_countries
from trustdesk.transparency.reports.dsa import DsaFacts
from trustdesk.transparency.reports.periods import Period

TEMPLATE_DIR = Path(__file__).parent / "data" / "annex_i"
FILE_PREFIX = "4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_"

# Part number, the template CSV's name after "Part_N_", and the XLSX sheet's name.
PARTS: tuple[tuple[int, str, str], ...] = (
    (1, "summary", "1_report_identification"),
    (2, "categories_names", "2_categories_names"),
    (3, "member_states_orders", "3_member_states_orders"),
    (4, "notices", "4_notices"),
    (5, "own_initiative_illegal", "5_own_initiative_illegal"),
    (6, "own_initiative_TC", "6_own_initiative_TC"),
    (7, "appeals_and_recidivism", "7_appeals_and_recidivism"),
    (8, "automated_means", "8_automated_means"),
    (9, "human_resources", "9_human_resources"),
    (10, "AMAR", "10_AMAR"),
    (11, "qualitative", "11_qualitative"),
)

# The 24 official languages of the Union (ISO 639-1), bg first and sv last as the template has them.
LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip

PLACEHOLDER_PERIOD = "YYYY-MM-DD/YYYY-MM-DD"
PLACEHOLDER_OTHER = 'Text to detail the "Other" keyword.'
ALL_STATES_SCOPE = "AT, […], SE"
ELLIPSIS = "[...]"
TOTAL = "TOTAL"
OTHER_KEYWORD = "KEYWORD_OTHER"
OTHER_DESCRIPTION = "Not captured by any other sub-category"
NOT_RECORDED = "Not recorded in Trustdesk: to be filled in by the provider before publication."


class ProviderKind(StrEnum):
    """Which rows apply (Annex II Part I point 1): the first column of every template row."""

    HOSTING = "hosting"
    ONLINE_PLATFORM = "online_platform"
    VLOP = "vlop"


APPLIES: dict[str, frozenset[ProviderKind]] = {
    "All": frozenset(ProviderKind),
    "Only for providers of hosting services, including online platforms": frozenset(ProviderKind),
    "Only for providers of online platforms": frozenset({ProviderKind.ONLINE_PLATFORM, ProviderKind.VLOP}),
    "Only for VLOPs": frozenset({ProviderKind.VLOP}),
    "Only for VLOPs and VLOSEs": frozenset({ProviderKind.VLOP}),
}


@dataclass(frozen=True)
class Provider:
    name: str
    kind: ProviderKind = ProviderKind.ONLINE_PLATFORM
    service: str = ""  # the template's "Service" column, blank for a provider of one service


def provider_of(settings: object) -> Provider:
    """The provider as the settings name it (organisation_name, dsa_provider_kind)."""
    return Provider(
        name=str(getattr(settings, "organisation_name", "")),
        kind=ProviderKind(str(getattr(settings, "dsa_provider_kind", ProviderKind.ONLINE_PLATFORM.value))),
    )


@dataclass(frozen=True)
class Accuracy:
    """Accuracy, precision and recall of automated means for one scope of Part 8, as decimals
    between 0 and 1 (None where it cannot be measured), and how they were measured."""

    accuracy: Decimal | None = None
    precision: Decimal | None = None
    recall: Decimal | None = None
    context: str = ""
    refs: tuple[str, ...] = ()


# Part 8's scopes for accuracy, as the template names them (note the template's trailing space).
SCOPE_TOTAL = "Total number"
SCOPE_OWN = "Own-initiative "
SCOPE_NOTICES = "NAM Total"
SCOPE_TRUSTED = "NAM Trusted Flagger"

# >>> ACCURACY HOOK (issue #22 item 2) <<<
# The quality labels (branch `quality`, trustdesk.safety.quality) give the accuracy figures:
# `accuracy_indicators(session, period=...)` returns {scope: Accuracy} for the scopes above.
# `build(..., accuracy=...)` takes that mapping; without one it falls back to `fallback_accuracy`
# (precision of automated detections against the reviewers' decisions on the same cases).
AccuracyByScope = Mapping[str, Accuracy]


@dataclass(frozen=True)
class Cell:
    value: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplatePart:
    number: int
    name: str
    sheet: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def template_file(self) -> str:
        return f"{FILE_PREFIX}{self.number}_{self.name}.csv"


@dataclass
class PartOutput:
    part: TemplatePart
    rows: list[list[str]] = field(default_factory=list)
    refs: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    figures: set[tuple[int, int]] = field(default_factory=set)  # the value cells (a count, median or ratio)

    def add(self, row: Sequence[str | Cell]) -> None:
        index = len(self.rows)
        values = []
        for col, cell in enumerate(row):
            if isinstance(cell, Cell):
                values.append(cell.value)
                self.figures.add((index, col))
                if cell.refs:
                    self.refs[(index, col)] = cell.refs
            else:
                values.append(cell)
        self.rows.append(values)


@dataclass(frozen=True)
class AnnexReport:
    period: Period
    provider: Provider
    parts: tuple[PartOutput, ...]

    def part(self, number: int) -> PartOutput:
        return next(p for p in self.parts if p.part.number == number)

    def file_name(self, number: int) -> str:
        part = self.part(number).part
        return f"dsa-transparency-{self.period.label}-{part.sheet}.csv"

    @property
    def workbook_name(self) -> str:
        """The eleven parts as one XLSX workbook, one sheet per part (`annex_workbook`)."""
        return f"dsa-transparency-{self.period.label}.xlsx"


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]


@cache
def load_parts(directory: Path = TEMPLATE_DIR) -> tuple[TemplatePart, ...]:
    parts = []
    for number, name, sheet in PARTS:
        rows = _read(directory / f"{FILE_PREFIX}{number}_{name}.csv")
        header, body = tuple(rows[0]), rows[1:]
        if any(len(r) != len(header) for r in body):
            raise ValueError(f"Annex I Part {number}: a row does not have the header's {len(header)} columns")
        parts.append(TemplatePart(number, name, sheet, header, tuple(tuple(r) for r in body)))
    return tuple(parts)


def member_states() -> list[str]:
    """The 27 Member States, ordered by English name as the template's `AT … SE` implies."""
    import pycountry

    def name(code: str) -> str:
        country = pycountry.countries.get(alpha_2=code)
        return country.name if country else code

    return sorted(eu_countries(), key=name)


def expand_scopes(part: TemplatePart) -> list[tuple[str, ...]]:
    """The template's rows with their placeholder rows expanded (see the module's notes);
    the structure every output file must have, and the one the test checks it against."""
    rows = list(part.rows)
    scope = part.header.index("Scope") if "Scope" in part.header else None
    if scope is None:
        return rows
    states = member_states()
    out: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    i = 0
    while i < len(rows):
        row = rows[i]
        if row[scope] == ALL_STATES_SCOPE:
            out += [(*row[:scope], s, *row[scope + 1 :]) for s in states]
            i += 1
            continue
        group = rows[i : i + 3]
        if len(group) == 3 and [r[scope] for r in group] in (["bg", ELLIPSIS, "sv"], ["AT", ELLIPSIS, "SE"]):
            values = LANGUAGES if group[0][scope] == "bg" else tuple(states)
            indicators = list(dict.fromkeys(r[scope - 1] for r in group))
            for indicator in indicators:
                base = next(r for r in group if r[scope - 1] == indicator)
                key = (*base[:scope], "*")
                if key in seen:
                    continue
                seen.add(key)
                out += [(*base[:scope], v, *base[scope + 1 :]) for v in values]
            i += 3
            continue
        out.append(row)
        i += 1
    return out


# -- figures -----------------------------------------------------------------------------------

HOURS = Decimal("0.01")
RATIO = Decimal("0.0001")


def count(refs: Iterable[str]) -> Cell:
    refs = tuple(refs)
    return Cell(str(len(refs)), refs)


def median(pairs: Iterable[tuple[float | None, str]]) -> Cell:
    known = [(v, r) for v, r in pairs if v is not None]
    if not known:
        return Cell("")
    value = Decimal(str(statistics.median(v for v, _ in known))).quantize(HOURS, rounding=ROUND_HALF_UP)
    return Cell(str(value), tuple(r for _, r in known))


def ratio(value: Decimal | None, refs: tuple[str, ...] = ()) -> Cell:
    if value is None:
        return Cell("")
    return Cell(str(value.quantize(RATIO, rounding=ROUND_HALF_UP)), refs)


class Slots:
    """Where an item of a category part goes: its keyword's row under its category, else the
    category's KEYWORD_OTHER row, else the category row itself (categories 16 and 17 have no
    sub-categories). Each item is counted once, and the rows above add up (Annex II Part I.7)."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = list(codes)
        self.parent: list[str | None] = []
        current: str | None = None
        for code in self.codes:
            if code.startswith("STATEMENT_CATEGORY_"):
                current = code
            self.parent.append(current if code.startswith("KEYWORD_") else None)
        self.children: dict[str, list[int]] = {}
        for i, p in enumerate(self.parent):
            if p is not None:
                self.children.setdefault(p, []).append(i)

    def leaf(self, category: str, keyword: str | None) -> int | None:
        if category not in self.codes:
            return None
        children = self.children.get(category, [])
        if not children:
            return self.codes.index(category)
        for i in children:
            if self.codes[i] == keyword:
                return i
        return next(i for i in children if self.codes[i] == OTHER_KEYWORD)

    def rows_of(self, index: int) -> list[int]:
        """The leaf rows a template row adds up: itself, its sub-categories, or all (TOTAL)."""
        code = self.codes[index]
        if code == TOTAL:
            return [i for i in range(len(self.codes)) if self._is_leaf(i)]
        if code.startswith("STATEMENT_CATEGORY_"):
            return self.children.get(code, [index])
        return [index]

    def _is_leaf(self, i: int) -> bool:
        code = self.codes[i]
        return code.startswith("KEYWORD_") or (code.startswith("STATEMENT_CATEGORY_") and code not in self.children)


def _by_leaf(slots: Slots, items: Iterable[tuple[str, str | None, object]]) -> tuple[dict[int, list], list]:
    """Items grouped by leaf row; items whose category has no row in this part apart (they
    count in TOTAL only, and TOTAL's contextual information says how many)."""
    leaves: dict[int, list] = {}
    unplaced: list = []
    for category, keyword, item in items:
        leaf = slots.leaf(category, keyword)
        if leaf is None:
            unplaced.append(item)
        else:
            leaves.setdefault(leaf, []).append(item)
    return leaves, unplaced


@dataclass
class _Builder:
    facts: DsaFacts
    period: Period
    provider: Provider
    published: date
    previous: date | None
    accuracy: AccuracyByScope

    @property
    def period_text(self) -> str:
        return f"{self.period.start.date().isoformat()}/{(self.period.end - timedelta(days=1)).date().isoformat()}"

    def applies(self, applicability: str) -> bool:
        return self.provider.kind in APPLIES.get(applicability, frozenset())

    def fixed(self, part: TemplatePart, row: tuple[str, ...]) -> list[str | Cell]:
        """A row's cells with the period and service filled, values blank."""
        out: list[str | Cell] = list(row)
        for i, name in enumerate(part.header):
            if name == "Reporting period":
                out[i] = self.period_text
            elif name == "Service":
                out[i] = self.provider.service
        return out

    # Part 1 ------------------------------------------------------------------------------
    def part1(self, part: TemplatePart) -> PartOutput:
        out = PartOutput(part)
        values = {
            "Name of the service provider": self.provider.name,
            "Date of the publication of the report": self.published.isoformat(),
            "Date of the publication of the latest previous report": self.previous.isoformat() if self.previous else "",
            "Starting date of reporting period": self.period.start.date().isoformat(),
            "Ending date of reporting period": (self.period.end - timedelta(days=1)).date().isoformat(),
        }
        for row in part.rows:
            cells = self.fixed(part, row)
            cells[3] = values.get(row[2], "")
            out.add(cells)
        return out

    # Part 2 ------------------------------------------------------------------------------
    def part2(self, part: TemplatePart) -> PartOutput:
        out = PartOutput(part)
        for row in part.rows:
            out.add([*row[:3], ""] if row[3].strip() == "" else list(row))
        return out

    # category parts (3, 4, 5, 6) ----------------------------------------------------------
    def _category_part(
        self,
        part: TemplatePart,
        rows: Sequence[tuple[str, ...]],
        columns: Mapping[str, Callable[[list], Cell]],
        items: Sequence[tuple[str, str | None, object]],
    ) -> list[list[str | Cell]]:
        code_col = 3
        other_col = 4
        slots = Slots([r[code_col] for r in rows])
        leaves, unplaced = _by_leaf(slots, items)
        applies = self.applies(rows[0][0]) if rows else False
        out_rows: list[list[str | Cell]] = []
        for index, row in enumerate(rows):
            cells = self.fixed(part, row)
            members = [item for leaf in slots.rows_of(index) for item in leaves.get(leaf, [])]
            if row[code_col] == TOTAL:
                members += unplaced
            if row[other_col] == PLACEHOLDER_OTHER:
                cells[other_col] = OTHER_DESCRIPTION if members else ""
            for col, name in enumerate(part.header):
                if name in columns:
                    cells[col] = columns[name](members) if applies and self.applies(row[0]) else Cell("")
                elif name.lower().startswith("contextual information"):
                    cells[col] = ""
            if row[code_col] == TOTAL and unplaced and applies:
                first_context = next(i for i, n in enumerate(part.header) if n.lower().startswith("contextual information"))
                cells[first_context] = f"{len(unplaced)} counted in TOTAL only: their category has no row in this part."
            out_rows.append(cells)
        return out_rows

    def part3(self, part: TemplatePart) -> PartOutput:
        out = PartOutput(part)
        rows = expand_scopes(part)
        scope_col = part.header.index("Scope")
        orders = self.facts.orders

        def of(kind: str) -> Callable[[list], list]:
            return lambda items: [o for o in items if o.kind == kind]

        act, info = of("act"), of("information")
        columns: dict[str, Callable[[list], Cell]] = {
            part.header[6]: lambda m: count(o.ref for o in act(m)),
            part.header[7]: lambda m: Cell(str(sum(o.items for o in act(m))), tuple(o.ref for o in act(m))),
            part.header[8]: lambda m: median((o.hours_to_confirm, o.ref) for o in act(m)),
            part.header[9]: lambda m: median((o.hours_to_effect, o.ref) for o in act(m)),
            part.header[10]: lambda m: count(o.ref for o in info(m)),
            part.header[11]: lambda m: median((o.hours_to_confirm, o.ref) for o in info(m)),
            part.header[12]: lambda m: median((o.hours_to_effect, o.ref) for o in info(m)),
        }
        # One block of category rows per scope (TOTAL, then each Member State in turn).
        scopes = list(dict.fromkeys(r[scope_col] for r in rows))
        by_scope: dict[str, list[tuple[int, tuple[str, ...]]]] = {s: [] for s in scopes}
        for i, r in enumerate(rows):
            by_scope[r[scope_col]].append((i, r))
        built: dict[int, list[str | Cell]] = {}
        for scope, indexed in by_scope.items():
            mine = [o for o in orders if scope == TOTAL or o.member_state == scope]
            block = self._category_part(part, [r for _, r in indexed], columns, [(o.category, None, o) for o in mine])
            for (i, _), cells in zip(indexed, block, strict=True):
                built[i] = cells
        for i in range(len(rows)):
            out.add(built[i])
        return out

    def part4(self, part: TemplatePart) -> PartOutput:
        out = PartOutput(part)
        h = part.header

        def tf(items: list) -> list:
            return [n for n in items if n.trusted_flagger]

        def acted(items: list, ground: str) -> Cell:
            return count(n.action_ref or n.ref for n in items if n.ground == ground)

        columns: dict[str, Callable[[list], Cell]] = {
            h[5]: lambda m: count(n.ref for n in m),
            h[6]: lambda m: count(n.ref for n in tf(m)),
            h[7]: lambda m: count(n.ref for n in m),  # one specific item of information per notice
            h[8]: lambda m: count(n.ref for n in tf(m)),
            h[9]: lambda m: median((n.hours_to_action, n.ref) for n in m),
            h[10]: lambda m: median((n.hours_to_action, n.ref) for n in tf(m)),
            h[11]: lambda m: acted(m, "law"),
            h[12]: lambda m: acted(tf(m), "law"),
            h[13]: lambda m: acted(m, "terms"),
            h[14]: lambda m: acted(tf(m), "terms"),
        }
        items = [(n.category, n.keyword, n) for n in self.facts.notices]
        for cells in self._category_part(part, part.rows, columns, items):
            out.add(cells)
        return out

    def _own(self, part: TemplatePart, ground: str) -> PartOutput:
        out = PartOutput(part)
        h = part.header
        columns: dict[str, Callable[[list], Cell]] = {
            h[5]: lambda m: count(a.ref for a in m),
            h[6]: lambda m: count(a.ref for a in m if a.detection == "automated"),
        }
        for name in h[7:21]:
            columns[name] = lambda m, name=name: count(a.ref for a in m if a.measure == name)  # type: ignore[misc]
        items = [(a.category, a.keyword, a) for a in self.facts.own_actions if a.ground == ground]
        for cells in self._category_part(part, part.rows, columns, items):
            out.add(cells)
        return out

    def part5(self, part: TemplatePart) -> PartOutput:
        return self._own(part, "law")

    def part6(self, part: TemplatePart) -> PartOutput:
        return self._own(part, "terms")

    # indicator parts (7, 8, 9, 10) ---------------------------------------------------------
    def _indicators(
        self, part: TemplatePart, value: Callable[[tuple[str, ...]], tuple[Cell, str] | None], rows: Sequence[tuple[str, ...]]
    ) -> PartOutput:
        out = PartOutput(part)
        value_col = part.header.index("Value")
        context_col = next((i for i, n in enumerate(part.header) if n.lower().startswith("contextual")), None)
        for row in rows:
            cells = self.fixed(part, row)
            cells[value_col] = Cell("")
            if context_col is not None:
                cells[context_col] = ""
            if self.applies(row[0]):
                found = value(row)
                if found is not None:
                    cells[value_col] = found[0]
                    if context_col is not None:
                        cells[context_col] = found[1]
            out.add(cells)
        return out

    def part7(self, part: TemplatePart) -> PartOutput:
        complaints = self.facts.complaints
        by_indicator = {
            "Number of complaints submitted to the internal-complaints mechanism": complaints,
            "Complaint regarding a decision to remove or disable access to or restrict visibility of information": [
                c for c in complaints if c.restriction == "visibility"
            ],
            "Complaint regarding a decision to suspend or terminate the provision of the service": [
                c for c in complaints if c.restriction == "provision"
            ],
            "Complaint regarding a decision to suspend or terminate an account ": [
                c for c in complaints if c.restriction == "account"
            ],
            "Complaint regarding a decision to restrict the ability to monetise information": [
                c for c in complaints if c.restriction == "monetary"
            ],
            # An appeal in Trustdesk is always against an action: none is against a decision not to act.
            "Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16": [],
            "Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16": [],
        }

        def value(row: tuple[str, ...]) -> tuple[Cell, str] | None:
            section, indicator, scope = row[3], row[4], row[5]
            if section == "Internal complaints mechanism":
                if indicator == "Number of restrictions newly imposed as a result of an internal complaint":
                    return Cell("0"), "A complaint in Trustdesk can lift a restriction, never impose one."
                group = by_indicator.get(indicator)
                if group is None:
                    return None
                return {
                    "Total number": (count(c.ref for c in group), ""),
                    "Decisions upheld": (count(c.ref for c in group if c.outcome == "confirmed"), ""),
                    "Decisions partially reversed": (Cell("0"), "Trustdesk records a complaint's outcome as upheld or reversed."),
                    "Decisions reversed": (count(c.ref for c in group if c.outcome == "reversed"), ""),
                    "Median time": (median((c.hours_to_decide, c.ref) for c in group if c.outcome is not None), "Hours."),
                    "Decision omitted": (
                        count(c.ref for c in group if c.outcome is None),
                        "Complaints not decided when the report was generated.",
                    ),
                }.get(scope)
            if section == "Suspensions imposed on repeated offenders":
                if indicator.startswith("Number of suspensions enacted for the provision of manifestly illegal content"):
                    return count(s.ref for s in self.facts.suspensions), "Account suspensions triggered by a strike threshold."
                return Cell(""), NOT_RECORDED
            if section == "Out-of-court dispute settlement bodies":
                return Cell(""), NOT_RECORDED
            return None

        return self._indicators(part, value, part.rows)

    def part8(self, part: TemplatePart) -> PartOutput:
        measures = self.facts.measures
        own = [m for m in measures if m.source == "own_initiative"]
        notices = self.facts.notices
        trusted = [n for n in notices if n.trusted_flagger]

        def automated_notice(n: object) -> bool:
            return bool(getattr(n, "automated", False)) and bool(getattr(n, "decided", False))

        counts = {
            (SCOPE_TOTAL, True): [m.ref for m in measures if m.automated],
            (SCOPE_TOTAL, False): [m.ref for m in measures if not m.automated],
            (SCOPE_OWN, True): [m.ref for m in own if m.automated],
            (SCOPE_OWN, False): [m.ref for m in own if not m.automated],
            (SCOPE_NOTICES, True): [n.ref for n in notices if automated_notice(n)],
            (SCOPE_NOTICES, False): [n.ref for n in notices if not automated_notice(n)],
            (SCOPE_TRUSTED, True): [n.ref for n in trusted if automated_notice(n)],
            (SCOPE_TRUSTED, False): [n.ref for n in trusted if not automated_notice(n)],
        }

        def value(row: tuple[str, ...]) -> tuple[Cell, str] | None:
            indicator, scope = row[4].strip(), row[5]
            if scope in LANGUAGES:
                return Cell(""), "Trustdesk does not record the language of the content it moderates."
            if indicator.startswith("Accuracy of the automated means - "):
                measured = self.accuracy.get(scope)
                if measured is None:
                    return Cell(""), "Not measured."
                which = indicator.removeprefix("Accuracy of the automated means - ").lower()
                return ratio(getattr(measured, which), measured.refs), measured.context
            solely = indicator in (
                "Number of measures solely taken by automated means",
                "Number of notices solely processed by automated means",
            )
            refs = counts.get((scope, solely))
            return (count(refs), "") if refs is not None else None

        return self._indicators(part, value, expand_scopes(part))

    def part9(self, part: TemplatePart) -> PartOutput:
        return self._indicators(part, lambda row: (Cell(""), NOT_RECORDED), expand_scopes(part))

    def part10(self, part: TemplatePart) -> PartOutput:
        return self._indicators(part, lambda row: (Cell(""), ""), expand_scopes(part))

    def part11(self, part: TemplatePart) -> PartOutput:
        out = PartOutput(part)
        value_col = part.header.index("Value")
        for row in part.rows:
            cells = self.fixed(part, row)
            cells[value_col] = ""  # free text the provider writes; Trustdesk leaves it blank
            out.add(cells)
        return out


def fallback_accuracy(facts: DsaFacts) -> dict[str, Accuracy]:
    """Precision of automated detection where no quality labels are given: of the cases a tool
    (rule, classifier, hash match) opened and a reviewer decided in the period, the share the
    reviewer acted on. Accuracy and recall need labels of items the tools did not flag."""
    reviews = [t for t in facts.tools if t.kind == "review"]
    if not reviews:
        return {}
    right = [t for t in reviews if not t.wrong]
    precision = Decimal(len(right)) / Decimal(len(reviews))
    context = (
        f"Precision against reviewers' decisions on {len(reviews)} cases opened by automated means "
        f"({len(right)} confirmed). Accuracy and recall need labels of unflagged items."
    )
    measured = Accuracy(precision=precision, context=context, refs=tuple(t.ref for t in reviews))
    return {SCOPE_TOTAL: measured, SCOPE_OWN: measured}


def build(
    facts: DsaFacts,
    *,
    period: Period,
    provider: Provider,
    published: date,
    previous: date | None = None,
    accuracy: AccuracyByScope | None = None,
) -> AnnexReport:
    builder = _Builder(
        facts=facts,
        period=period,
        provider=provider,
        published=published,
        previous=previous,
        accuracy=accuracy if accuracy is not None else fallback_accuracy(facts),
    )
    parts = tuple(getattr(builder, f"part{p.number}")(p) for p in load_parts())
    return AnnexReport(period=period, provider=provider, parts=parts)


def render_part(part: PartOutput) -> bytes:
    """RFC 4180: CRLF line ends, a field quoted where it holds a comma, quote or line break."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(part.part.header)
    writer.writerows(part.rows)
    return out.getvalue().encode("utf-8")


def trace_rows(report: AnnexReport) -> list[tuple[str, int, str, str, str]]:
    """(file, line, column, value, records): the records each figure counts. Line 1 is the header."""
    found = []
    for p in report.parts:
        name = report.file_name(p.part.number)
        for (row, col), refs in sorted(p.refs.items()):
            found.append((name, row + 2, p.part.header[col], p.rows[row][col], " ".join(refs)))
    return found


def render_trace(report: AnnexReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("file", "line", "column", "value", "records"))
    writer.writerows(trace_rows(report))
    return out.getvalue().encode("utf-8")
