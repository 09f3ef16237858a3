"""The accuracy indicators the DSA transparency report states (Art. 15(1)(c) and (e) DSA,
Implementing Regulation (EU) 2024/2835): measured from the quality labels and the appeals,
never typed in, each with its sample size and 95 % Wilson interval.

`accuracy_indicators` is the one function the report calls. Its indicators, for the period:

- `automated`, `automated:rule`, `automated:bank`, `automated:classifier` and `human`, from
  the quality labels: of the sampled decisions of that means whose final label is given, how
  many the label confirmed (accuracy) and how many it did not (error rate);
- `automated:complaints` and `human:complaints`, from the appeals decided in the period
  against actions of that kind: how many stood (confirmed) and how many were reversed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.quality.metrics import Rate
from trustdesk.safety.quality.models import AUTOMATED_SOURCES, DeciderKind, QualitySample, SampleState
from trustdesk.safety.review.models import Appeal, AppealOutcome, AppealState

QUALITY_LABELS = "quality_labels"
COMPLAINTS = "complaints"
METHOD = (
    "Accuracy is measured on a random sample of decisions, drawn by the sampling rules, each re-reviewed blind by "
    "another person (who does not see the decision, who took it or why it was sampled); where the two disagree, a "
    "senior reviewer gives the final label. A decision is accurate when its final label matches it (the same outcome "
    "and, for an action, the same policy). Complaints count the appeals decided in the period. Intervals are 95 % "
    "Wilson score intervals; a sample counts in the period its decision was taken."
)


@dataclass(frozen=True)
class Indicator:
    means: str
    basis: str
    accuracy: Rate  # correct of sample size

    @property
    def sample_size(self) -> int:
        return self.accuracy.trials

    @property
    def error(self) -> Rate:
        return self.accuracy.complement


@dataclass(frozen=True)
class AccuracyIndicators:
    start: datetime
    end: datetime
    indicators: list[Indicator]
    method: str = METHOD

    def get(self, means: str) -> Indicator:
        return next(i for i in self.indicators if i.means == means)


def _labelled(session: Session, start: datetime, end: datetime) -> list[QualitySample]:
    query = select(QualitySample).where(
        QualitySample.state == SampleState.LABELLED.value, QualitySample.decided_at >= start, QualitySample.decided_at < end
    )
    return list(session.scalars(query.order_by(QualitySample.id)))


def _correct(samples: list[QualitySample]) -> Rate:
    return Rate(sum(1 for s in samples if s.first_correct), len(samples))


def _complaints(session: Session, start: datetime, end: datetime) -> dict[bool, Rate]:
    query = (
        select(Appeal.outcome, EnforcementAction.automated)
        .join(EnforcementAction, EnforcementAction.id == Appeal.action_id)
        .where(Appeal.state == AppealState.DECIDED.value, Appeal.decided_at >= start, Appeal.decided_at < end)
    )
    rows = session.execute(query).all()
    found = {}
    for automated in (True, False):
        mine = [outcome for outcome, auto in rows if bool(auto) is automated]
        found[automated] = Rate(sum(1 for o in mine if o == AppealOutcome.CONFIRMED.value), len(mine))
    return found


def accuracy_indicators(session: Session, *, start: datetime, end: datetime) -> AccuracyIndicators:
    """The indicators of [start, end), every one present (a sample size of 0 reads 'no data')."""
    labelled = _labelled(session, start, end)
    machine = [s for s in labelled if s.decider_kind != DeciderKind.REVIEWER]
    people = [s for s in labelled if s.decider_kind == DeciderKind.REVIEWER]
    found = [Indicator("automated", QUALITY_LABELS, _correct(machine))]
    found += [
        Indicator(f"automated:{src}", QUALITY_LABELS, _correct([s for s in machine if s.source == src]))
        for src in AUTOMATED_SOURCES
    ]
    found.append(Indicator("human", QUALITY_LABELS, _correct(people)))
    complaints = _complaints(session, start, end)
    found += [
        Indicator("automated:complaints", COMPLAINTS, complaints[True]),
        Indicator("human:complaints", COMPLAINTS, complaints[False]),
    ]
    return AccuracyIndicators(start, end, found)
