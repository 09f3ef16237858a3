"""The DSA transparency report (Arts. 15 and 24 DSA) as figures in the structure of the
harmonised quantitative template (Implementing Regulation (EU) 2024/2835).

As for the government-request report, reading and counting are apart: `dsa_facts.gather`
reads one small record per order, notice, own-initiative action, complaint and automated
decision of the period, and `figures` turns them into `Figure` rows, one per number of the
template. The CSV is those rows; the HTML page reads the same rows, so the two never differ."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from trustdesk.safety.enforcement.dsa import StatementCategory
from trustdesk.transparency.reports.figures import median_hours, share
from trustdesk.transparency.reports.periods import Period

_Facts = TypeVar("_Facts")

ALL = "ALL"
CATEGORIES: tuple[str, ...] = tuple(c.value for c in StatementCategory)


class Unit(StrEnum):
    COUNT = "count"
    HOURS = "hours"
    PERCENT = "percent"


class Measure(StrEnum):
    COUNT = "count"
    MEDIAN_HOURS_TO_CONFIRM = "median_hours_to_confirm_receipt"
    MEDIAN_HOURS_TO_EFFECT = "median_hours_to_give_effect"
    MEDIAN_HOURS_TO_ACTION = "median_hours_to_take_action"
    MEDIAN_HOURS_TO_DECIDE = "median_hours_to_decide"
    SHARE = "share_percent"
    CI95_LOW = "ci95_low_percent"  # issue #22: the 95 % interval of a share measured on a sample
    CI95_HIGH = "ci95_high_percent"


UNITS = {Measure.COUNT: Unit.COUNT, Measure.SHARE: Unit.PERCENT, Measure.CI95_LOW: Unit.PERCENT, Measure.CI95_HIGH: Unit.PERCENT}


@dataclass(frozen=True)
class OrderFacts:
    kind: str  # act | information
    member_state: str
    category: str
    hours_to_confirm: float | None
    hours_to_effect: float | None
    items: int = 1  # specific items of information the order names
    ref: str = ""  # the record counted, e.g. "request:12"


@dataclass(frozen=True)
class NoticeFacts:
    category: str
    trusted_flagger: bool
    decided: bool
    ground: str | None  # law | terms, when an action was taken
    automated: bool
    hours_to_action: float | None
    keyword: str | None = None
    ref: str = ""  # "notice:12"
    action_ref: str = ""  # "action:34" when an action took effect


@dataclass(frozen=True)
class OwnActionFacts:
    category: str
    detection: str  # automated | manual
    restriction: str  # visibility | provision | account | monetary
    ground: str  # law | terms
    keyword: str | None = None
    measure: str = ""  # the Annex I column of its restriction, e.g. "Visibility restriction Removal"
    ref: str = ""  # "action:34"


@dataclass(frozen=True)
class ComplaintFacts:
    restriction: str
    outcome: str | None  # reversed | confirmed | None while pending
    hours_to_decide: float | None
    ref: str = ""  # "appeal:5"


@dataclass(frozen=True)
class ToolFacts:
    """One automated decision (`kind` 'decision', `wrong` if reversed on complaint) or one
    automated detection decided by a reviewer (`kind` 'review', `wrong` if overturned)."""

    tool: str
    kind: str
    wrong: bool
    ref: str = ""  # "action:34" or "case:7"
    own_initiative: bool = True


@dataclass(frozen=True)
class MeasureFacts:
    """One action that took effect in the period, for Annex I Part 8: solely automated or
    not, on the provider's own initiative or on a notice (from a trusted flagger or not)."""

    automated: bool
    source: str  # own_initiative | notice | trusted_flagger | legal
    ref: str


@dataclass(frozen=True)
class SuspensionFacts:
    """A suspension for repeated manifestly illegal content (Art. 23(1) DSA): an account
    suspension that a strike threshold triggered."""

    ref: str


@dataclass(frozen=True)
class DsaFacts:
    orders: list[OrderFacts]
    notices: list[NoticeFacts]
    own_actions: list[OwnActionFacts]
    complaints: list[ComplaintFacts]
    tools: list[ToolFacts]
    measures: list[MeasureFacts] = field(default_factory=list)
    suspensions: list[SuspensionFacts] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    """One number of the report, addressed as in the template."""

    table: str
    category: str
    member_state: str
    breakdown: str
    measure: Measure
    value: Decimal | int | None

    @property
    def unit(self) -> Unit:
        return UNITS.get(self.measure, Unit.HOURS)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.table, self.category, self.member_state, self.breakdown, self.measure.value)


@dataclass(frozen=True)
class DsaReport:
    period: Period
    generated_at: datetime
    figures: list[Figure]

    def value(
        self, table: str, *, category: str = ALL, member_state: str = ALL, breakdown: str = "", measure: Measure = Measure.COUNT
    ) -> Decimal | int | None:
        """The one figure at this address; KeyError when the report has no such figure."""
        return self.index[(table, category, member_state, breakdown, measure.value)].value

    def count(self, table: str, *, category: str = ALL, member_state: str = ALL, breakdown: str = "") -> int:
        """A count at this address: never None, unlike a median or a share with nothing to measure."""
        value = self.value(table, category=category, member_state=member_state, breakdown=breakdown)
        if not isinstance(value, int):
            raise TypeError(f"{table} {category} {member_state} {breakdown}: a count of {value!r}")
        return value

    @property
    def index(self) -> dict[tuple[str, str, str, str, str], Figure]:
        return {f.key: f for f in self.figures}

    def table(self, code: str) -> list[Figure]:
        return [f for f in self.figures if f.table == code]


def _count(
    table: str,
    items: Sequence[_Facts],
    *,
    by: Callable[[_Facts], str],
    breakdown: str = "",
    keys: Iterable[str] = (),
    member_state: str = ALL,
) -> list[Figure]:
    """A count per category (every key in `keys`, zeros included, then any other seen) and the total."""
    counts = Counter(by(i) for i in items)
    ordered = list(dict.fromkeys([*keys, *sorted(counts)]))
    rows = [Figure(table, k, member_state, breakdown, Measure.COUNT, counts.get(k, 0)) for k in ordered]
    return [*rows, Figure(table, ALL, member_state, breakdown, Measure.COUNT, len(items))]


def _by_breakdown(table: str, items: Sequence[_Facts], *, by: Callable[[_Facts], str], keys: Iterable[str]) -> list[Figure]:
    counts = Counter(by(i) for i in items)
    ordered = list(dict.fromkeys([*keys, *sorted(counts)]))
    return [Figure(table, ALL, ALL, k, Measure.COUNT, counts.get(k, 0)) for k in ordered]


def _orders(table: str, orders: list[OrderFacts]) -> list[Figure]:
    rows = _count(table, orders, by=lambda o: o.category, keys=CATEGORIES)
    for state in sorted({o.member_state for o in orders}):
        mine = [o for o in orders if o.member_state == state]
        counts = Counter(o.category for o in mine)
        rows += [Figure(table, c, state, "", Measure.COUNT, n) for c, n in sorted(counts.items())]
        rows.append(Figure(table, ALL, state, "", Measure.COUNT, len(mine)))
    return rows


def _order_times(orders: list[OrderFacts]) -> list[Figure]:
    rows = []
    for kind in ("act", "information"):
        mine = [o for o in orders if o.kind == kind]
        for state in [ALL, *sorted({o.member_state for o in mine})]:
            group = [o for o in mine if state in (ALL, o.member_state)]
            rows.append(
                Figure(
                    "ORD.3", ALL, state, kind, Measure.MEDIAN_HOURS_TO_CONFIRM, median_hours(o.hours_to_confirm for o in group)
                )
            )
            rows.append(
                Figure("ORD.3", ALL, state, kind, Measure.MEDIAN_HOURS_TO_EFFECT, median_hours(o.hours_to_effect for o in group))
            )
    return rows


def _notices(notices: list[NoticeFacts]) -> list[Figure]:
    trusted = [n for n in notices if n.trusted_flagger]
    actioned = [n for n in notices if n.ground is not None]
    rows = _count("NOT.1", notices, by=lambda n: n.category, keys=CATEGORIES)
    rows += _count("NOT.1", trusted, by=lambda n: n.category, keys=CATEGORIES, breakdown="trusted_flagger")
    for ground in ("law", "terms"):
        rows += _count("NOT.2", [n for n in actioned if n.ground == ground], by=lambda n: n.category, breakdown=ground)
    decided = [n for n in notices if n.decided]
    rows += [
        Figure("NOT.2", ALL, ALL, "no_action", Measure.COUNT, sum(1 for n in decided if n.ground is None)),
        Figure("NOT.2", ALL, ALL, "pending", Measure.COUNT, len(notices) - len(decided)),
        Figure("NOT.3", ALL, ALL, "automated", Measure.COUNT, sum(n.automated for n in decided)),
        Figure("NOT.3", ALL, ALL, "automated", Measure.SHARE, share(sum(n.automated for n in decided), len(decided))),
    ]
    for label, group in (("", notices), ("trusted_flagger", trusted)):
        rows.append(
            Figure("NOT.3", ALL, ALL, label, Measure.MEDIAN_HOURS_TO_ACTION, median_hours(n.hours_to_action for n in group))
        )
    return rows


def _own(actions: list[OwnActionFacts]) -> list[Figure]:
    rows = []
    for detection in ("automated", "manual"):
        rows += _count("OWN.1", [a for a in actions if a.detection == detection], by=lambda a: a.category, breakdown=detection)
    rows += _count("OWN.1", actions, by=lambda a: a.category, keys=CATEGORIES)
    rows += _by_breakdown("OWN.2", actions, by=lambda a: a.restriction, keys=("visibility", "provision", "account", "monetary"))
    rows += _by_breakdown("OWN.3", actions, by=lambda a: a.ground, keys=("law", "terms"))
    return rows


def _complaints(complaints: list[ComplaintFacts]) -> list[Figure]:
    decided = [c for c in complaints if c.outcome is not None]
    reversed_ = sum(c.outcome == "reversed" for c in decided)
    rows = _by_breakdown("COM.1", complaints, by=lambda c: c.restriction, keys=("visibility", "provision", "account", "monetary"))
    rows.append(Figure("COM.1", ALL, ALL, "", Measure.COUNT, len(complaints)))
    rows += _by_breakdown("COM.2", complaints, by=lambda c: c.outcome or "pending", keys=("confirmed", "reversed", "pending"))
    rows += [
        Figure("COM.2", ALL, ALL, "reversed", Measure.SHARE, share(reversed_, len(decided))),
        Figure("COM.2", ALL, ALL, "", Measure.MEDIAN_HOURS_TO_DECIDE, median_hours(c.hours_to_decide for c in decided)),
    ]
    return rows


def _tools(table: str, kind: str, facts: list[ToolFacts]) -> list[Figure]:
    mine = [f for f in facts if f.kind == kind]
    label = "reversed" if kind == "decision" else "overturned"
    rows = []
    for tool in [*sorted({f.tool for f in mine}), ALL]:
        group = [f for f in mine if tool in (ALL, f.tool)]
        wrong = sum(f.wrong for f in group)
        rows += [
            Figure(table, ALL, ALL, tool, Measure.COUNT, len(group)),
            Figure(table, ALL, ALL, f"{tool}:{label}", Measure.COUNT, wrong),
            Figure(table, ALL, ALL, f"{tool}:{label}", Measure.SHARE, share(wrong, len(group))),
        ]
    return rows


def figures(facts: DsaFacts) -> list[Figure]:
    """Every figure of the report, in the template's order."""
    act = [o for o in facts.orders if o.kind == "act"]
    information = [o for o in facts.orders if o.kind == "information"]
    return [
        *_orders("ORD.1", act),
        *_orders("ORD.2", information),
        *_order_times(facts.orders),
        *_notices(facts.notices),
        *_own(facts.own_actions),
        *_complaints(facts.complaints),
        *_tools("AUT.1", "decision", facts.tools),
        *_tools("AUT.2", "review", facts.tools),
    ]


def build_report(facts: DsaFacts, *, period: Period, now: datetime) -> DsaReport:
    return DsaReport(period=period, generated_at=now, figures=figures(facts))
