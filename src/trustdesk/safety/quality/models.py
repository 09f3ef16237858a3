"""Quality tables. A sampling rule says which decisions are drawn for a blind re-review; a
sample is one drawn decision (a reviewer's decision or an automated action) with what the
first decision said, the blind re-review and, where the two disagree, a senior's final label.

Each label is written once: a sample moves blind -> senior -> labelled, or blind ->
labelled when the re-review agrees, and every step is an audit entry. A rule is retired,
never deleted, so that every sample keeps the rule that drew it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class QualitySource(StrEnum):
    """Where the sampled decision's case came from (the issue's five, and the two others a
    case may have): a user's notice, a trusted flagger, a rule, a hash bank, a classifier."""

    NOTICE = "notice"
    TRUSTED_FLAGGER = "trusted_flagger"
    RULE = "rule"
    BANK = "bank"
    CLASSIFIER = "classifier"
    LEGAL = "legal"
    OWN_INITIATIVE = "own_initiative"


AUTOMATED_SOURCES: tuple[str, ...] = (QualitySource.RULE.value, QualitySource.BANK.value, QualitySource.CLASSIFIER.value)


class DeciderKind(StrEnum):
    REVIEWER = "reviewer"
    RULE = "rule"
    BANK = "bank"
    MODEL = "model"
    SYSTEM = "system"


class SamplePeriod(StrEnum):
    """The period a rule's minimum is counted in (UTC calendar day, ISO week, month)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class SampleState(StrEnum):
    BLIND = "blind"  # waiting for a blind re-review
    SENIOR = "senior"  # the re-review disagreed: waiting for a senior's final label
    LABELLED = "labelled"  # final label given


class ItemKind(StrEnum):
    DECISION = "decision"  # review_decisions: a person decided a case
    ACTION = "action"  # enforcement_actions with automated = true: a rule, bank or model decided


class SampleReason(StrEnum):
    SHARE = "share"
    MINIMUM = "minimum"


class SamplingRule(Base):
    """Which decisions to sample: those matching every filter given (queue, policy, source,
    decider), a `share` of them, at least `minimum` per `period`, decided between
    `active_from` and `active_until`."""

    __tablename__ = "quality_sampling_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(48))
    policy: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(24))
    decider: Mapped[str | None] = mapped_column(String(200))  # staff:alice, a rule ref with its version, model:x@v
    share: Mapped[float] = mapped_column(Float)
    minimum: Mapped[int] = mapped_column(Integer, default=0)
    period: Mapped[str] = mapped_column(String(8))
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_by: Mapped[str | None] = mapped_column(String(200))


class QualitySample(Base):
    __tablename__ = "quality_samples"
    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(48))
    policy: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(24), index=True)
    detector: Mapped[str | None] = mapped_column(String(200))  # the automated means and its version that flagged or decided
    decided_by: Mapped[str] = mapped_column(String(200))
    decider_kind: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_outcome: Mapped[str] = mapped_column(String(16))
    first_policy: Mapped[str | None] = mapped_column(String(64))
    rule_id: Mapped[int] = mapped_column(ForeignKey("quality_sampling_rules.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), index=True)
    blind_by: Mapped[str | None] = mapped_column(String(200))
    blind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blind_outcome: Mapped[str | None] = mapped_column(String(16))
    blind_policy: Mapped[str | None] = mapped_column(String(64))
    blind_note: Mapped[str | None] = mapped_column(Text)
    agreed: Mapped[bool | None] = mapped_column(Boolean)
    senior_by: Mapped[str | None] = mapped_column(String(200))
    senior_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    senior_note: Mapped[str | None] = mapped_column(Text)
    final_outcome: Mapped[str | None] = mapped_column(String(16))
    final_policy: Mapped[str | None] = mapped_column(String(64))
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_correct: Mapped[bool | None] = mapped_column(Boolean)
