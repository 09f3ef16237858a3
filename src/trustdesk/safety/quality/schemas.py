"""API shapes for review quality. `BlindItemRead` is what a blind re-reviewer receives: it
forbids extra fields and has none that tell the first decision, its decider or why it was
sampled (tests/safety/quality/test_blind.py lists what it must never carry)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    share: float = Field(ge=0, le=1)
    minimum: int = Field(default=0, ge=0, le=100_000)
    period: str = "week"
    queue: str | None = Field(default=None, max_length=48)
    policy: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=24)
    decider: str | None = Field(default=None, max_length=200)
    active_from: AwareDatetime | None = None
    active_until: AwareDatetime | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    share: float
    minimum: int
    period: str
    queue: str | None
    policy: str | None
    source: str | None
    decider: str | None
    active_from: datetime
    active_until: datetime | None
    created_by: str
    created_at: datetime
    retired_at: datetime | None


class DrawResult(BaseModel):
    drawn: int
    sample_ids: list[int]


class BlindItemRead(BaseModel):
    """A sample as the blind re-reviewer sees it."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")
    sample_id: int
    subject_kind: str
    subject_id: str
    queue: str | None
    sampled_at: datetime
    content: str | None


class LabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=16)
    policy: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


class LabelReceipt(BaseModel):
    """What a re-reviewer is told after labelling: that it was stored, not whether it agreed
    (which would tell them the first decision)."""

    sample_id: int
    stored: bool = True


class DisagreementRead(BaseModel):
    """What a senior sees: both labels, not who gave them."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    subject_kind: str
    subject_id: str
    queue: str | None
    policy: str
    first_outcome: str
    first_policy: str | None
    blind_outcome: str | None
    blind_policy: str | None
    blind_note: str | None


class SampleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    state: str
    final_outcome: str | None
    final_policy: str | None
    first_correct: bool | None
    labelled_at: datetime | None


class RateRead(BaseModel):
    successes: int
    trials: int
    percent: Decimal | None
    ci95_low: Decimal | None
    ci95_high: Decimal | None


class GroupRead(BaseModel):
    key: str
    decisions: int
    median_hours_to_decision: Decimal | None
    sampled: int
    agreement: RateRead
    accuracy: RateRead
    error: RateRead
    overturn_on_appeal: RateRead


class PrecisionRead(BaseModel):
    source: str
    detector: str
    precision: RateRead


class MetricsRead(BaseModel):
    start: datetime
    end: datetime
    total: GroupRead
    by_policy: list[GroupRead]
    by_period: list[GroupRead]
    precision: list[PrecisionRead]
    waiting: dict[str, int]
