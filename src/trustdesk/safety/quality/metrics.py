"""What the labels measure, per policy and per period:

- agreement: of the blind re-reviews given, the share that matched the first decision;
- accuracy: of the samples with a final label, the share whose first decision was right
  (error rate: the rest);
- precision of each automated means by version: of the labelled samples that a rule, bank
  or model flagged or decided, the share whose final label is an action;
- overturn on appeal: of the appeals decided, the share that reversed the action;
- time to decision: the median hours from a case's opening to a reviewer's decision.

Each rate comes with its counts and a 95 % Wilson score interval, which stays inside 0-100 %
and is honest for small samples and for rates near 0 or 100 % (where the normal interval is
not). A sample counts in the period its first decision was taken; an appeal in the period it
was decided. Figures are rounded once, half up, at the end."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.quality.models import AUTOMATED_SOURCES, QualitySample, SampleState
from trustdesk.safety.quality.sampling import UNSPECIFIED, next_period, period_start
from trustdesk.safety.review.models import Appeal, AppealOutcome, AppealState, Case, CaseOutcome, Decision

Z95 = 1.959963984540054
PLACES = Decimal("0.1")
HOURS = Decimal("0.01")
ALL = "ALL"


def _pct(value: float) -> Decimal:
    return Decimal(str(value * 100)).quantize(PLACES, rounding=ROUND_HALF_UP)


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, as fractions; None for no trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """`successes` of `trials`, in per cent to one place, with its 95 % interval."""

    successes: int
    trials: int

    @property
    def percent(self) -> Decimal | None:
        return None if self.trials == 0 else _pct(self.successes / self.trials)

    @property
    def low(self) -> Decimal | None:
        bounds = wilson(self.successes, self.trials)
        return None if bounds is None else _pct(bounds[0])

    @property
    def high(self) -> Decimal | None:
        bounds = wilson(self.successes, self.trials)
        return None if bounds is None else _pct(bounds[1])

    @property
    def complement(self) -> Rate:
        return Rate(self.trials - self.successes, self.trials)


def _rate(items: Iterable[object], test: Callable[[object], bool]) -> Rate:
    listed = list(items)
    return Rate(sum(1 for i in listed if test(i)), len(listed))


@dataclass(frozen=True)
class Group:
    """The figures of one policy, or one period, or everything (`key` ALL)."""

    key: str
    decisions: int
    median_hours_to_decision: Decimal | None
    sampled: int
    agreement: Rate
    accuracy: Rate
    overturn: Rate

    @property
    def error(self) -> Rate:
        return self.accuracy.complement


@dataclass(frozen=True)
class Precision:
    source: str
    detector: str
    precision: Rate


@dataclass(frozen=True)
class QualityMetrics:
    start: datetime
    end: datetime
    by_policy: list[Group]
    by_period: list[Group]
    precision: list[Precision]
    total: Group
    waiting: dict[str, int] = field(default_factory=dict)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decided:
    policy: str
    at: datetime
    hours: float


@dataclass(frozen=True)
class _Appealed:
    policy: str
    at: datetime
    reversed: bool


def _samples(session: Session, start: datetime, end: datetime) -> list[QualitySample]:
    query = select(QualitySample).where(QualitySample.decided_at >= start, QualitySample.decided_at < end)
    return list(session.scalars(query.order_by(QualitySample.id)))


def _decisions(session: Session, start: datetime, end: datetime) -> list[_Decided]:
    query = (
        select(Decision, Case.opened_at, Case.policy_hint)
        .join(Case, Case.id == Decision.case_id)
        .where(Decision.decided_at >= start, Decision.decided_at < end)
    )
    found = []
    for decision, opened_at, hint in session.execute(query):
        policy = decision.policy if decision.outcome == CaseOutcome.ACTION.value else hint
        found.append(
            _Decided(policy or UNSPECIFIED, decision.decided_at, (decision.decided_at - opened_at).total_seconds() / 3600)
        )
    return found


def _appeals(session: Session, start: datetime, end: datetime) -> list[_Appealed]:
    query = (
        select(Appeal, EnforcementAction.policy)
        .join(EnforcementAction, EnforcementAction.id == Appeal.action_id)
        .where(Appeal.state == AppealState.DECIDED.value, Appeal.decided_at >= start, Appeal.decided_at < end)
    )
    return [
        _Appealed(policy or UNSPECIFIED, appeal.decided_at, appeal.outcome == AppealOutcome.REVERSED.value)
        for appeal, policy in session.execute(query)
        if appeal.decided_at is not None
    ]


# -- counting ----------------------------------------------------------------------------------


def _median(values: list[float]) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(statistics.median(values))).quantize(HOURS, rounding=ROUND_HALF_UP)


def _group(key: str, samples: list[QualitySample], decided: list[_Decided], appealed: list[_Appealed]) -> Group:
    reviewed = [s for s in samples if s.agreed is not None]
    labelled = [s for s in samples if s.state == SampleState.LABELLED]
    return Group(
        key=key,
        decisions=len(decided),
        median_hours_to_decision=_median([d.hours for d in decided]),
        sampled=len(samples),
        agreement=_rate(reviewed, lambda s: bool(s.agreed)),  # type: ignore[attr-defined]
        accuracy=_rate(labelled, lambda s: bool(s.first_correct)),  # type: ignore[attr-defined]
        overturn=_rate(appealed, lambda a: a.reversed),  # type: ignore[attr-defined]
    )


def _months(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    months, at = [], period_start("month", start)
    while at < end:
        following = next_period("month", at)
        months.append((f"{at:%Y-%m}", max(at, start), min(following, end)))
        at = following
    return months


def _precision(samples: list[QualitySample]) -> list[Precision]:
    by: dict[tuple[str, str], list[QualitySample]] = defaultdict(list)
    for s in samples:
        if s.detector and s.source in AUTOMATED_SOURCES and s.state == SampleState.LABELLED:
            by[(s.source, s.detector)].append(s)
    return [
        Precision(source, detector, _rate(group, lambda s: s.final_outcome == CaseOutcome.ACTION.value))  # type: ignore[attr-defined]
        for (source, detector), group in sorted(by.items())
    ]


def compute(session: Session, *, start: datetime, end: datetime) -> QualityMetrics:
    """Every figure of [start, end), for the console, the API, the CSV."""
    samples, decided, appealed = _samples(session, start, end), _decisions(session, start, end), _appeals(session, start, end)
    policies = sorted({s.policy for s in samples} | {d.policy for d in decided} | {a.policy for a in appealed})
    by_policy = [
        _group(
            p,
            [s for s in samples if s.policy == p],
            [d for d in decided if d.policy == p],
            [a for a in appealed if a.policy == p],
        )
        for p in policies
    ]
    by_period = [
        _group(
            label,
            [s for s in samples if lo <= s.decided_at < hi],
            [d for d in decided if lo <= d.at < hi],
            [a for a in appealed if lo <= a.at < hi],
        )
        for label, lo, hi in _months(start, end)
    ]
    waiting = {state.value: sum(1 for s in samples if s.state == state) for state in SampleState}
    return QualityMetrics(start, end, by_policy, by_period, _precision(samples), _group(ALL, samples, decided, appealed), waiting)


def quality_metrics(session: Session, *, principal: Principal, start: datetime, end: datetime) -> QualityMetrics:
    authorize(principal, Permission.QUALITY_READ)
    return compute(session, start=start, end=end)
