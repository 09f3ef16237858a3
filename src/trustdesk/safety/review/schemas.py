"""API shapes for review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from trustdesk.core.ids import RowId


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subject_kind: str
    subject_id: str
    queue: str
    priority: int
    state: str
    source: str
    sources: list[str]
    reason: str
    rule_ref: str | None
    signals: dict[str, Any]
    policy_hint: str | None
    trusted_flagger: bool
    reports: int
    opened_at: datetime
    due_at: datetime
    claimed_by: str | None
    claim_expires_at: datetime | None
    decided_at: datetime | None
    outcome: str | None


class CaseOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject_kind: str
    subject_id: str = Field(min_length=1, max_length=128)
    queue: str
    priority: int = Field(50, ge=0, le=100)
    source: str
    reason: str = Field(max_length=2000)
    rule_ref: str | None = Field(None, max_length=200)
    signals: dict[str, Any] | None = None


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str
    reason: str = Field(max_length=2000)


class DecisionCreate(BaseModel):
    """outcome `action` needs action and policy; `legal_ground` names the law for illegal content."""

    model_config = ConfigDict(extra="forbid")
    outcome: str
    reason: str = Field(max_length=2000)
    policy: str | None = None
    action: str | None = None
    legal_ground: str | None = Field(None, max_length=500)
    territorial_scope: list[str] | None = None
    until: AwareDatetime | None = None


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    decided_by: str
    decided_at: datetime
    outcome: str
    policy: str | None
    legal_ground: str | None
    action: str | None
    territorial_scope: list[str] | None
    until: datetime | None
    reason: str
    action_id: int | None
    bulk_ref: str | None


class BulkRequest(DecisionCreate):
    case_ids: list[RowId]
    confirm: str | None = None


class BulkPreviewRow(BaseModel):
    case_id: int
    subject: str
    target: str
    problem: str | None


class BulkPreview(BaseModel):
    rows: list[BulkPreviewRow]
    confirm: str


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str
    text: str = Field(max_length=5000)


class AppealDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str
    reason: str = Field(max_length=2000)


class AppealRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    action_id: int
    filed_at: datetime
    state: str
    outcome: str | None
    decided_at: datetime | None
    decision_reason: str | None


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=64)
