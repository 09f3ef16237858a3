"""API shapes for enforcement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subject_kind: str
    subject_id: str
    account_id: str | None
    action: str
    policy: str
    policy_version: str
    decision_ground: str
    legal_ground: str | None
    automated: bool
    source: str
    territorial_scope: list[str] | None
    until: datetime | None
    acted_at: datetime
    platform_ok: bool
    platform_detail: str
    reversed_at: datetime | None
    reversal_ok: bool | None


class StrikeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    policy: str
    weight: int
    issued_at: datetime
    expires_at: datetime
    voided_at: datetime | None


class AccountRecord(BaseModel):
    account_id: str
    active_points: int
    strikes: list[StrikeRead]
    actions: list[ActionRead]


class StatementRead(BaseModel):
    puid: str
    language: str
    told_at: datetime
    appeal_until: datetime
    sections: list[tuple[str, str]]
    correction: str | None


class TiplineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    account_id: str
    state: str
    fields: dict[str, Any]
    created_at: datetime
    filed_at: datetime | None
    ncmec_report_id: str | None


class TiplineFiled(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ncmec_report_id: str = Field(max_length=20)


class DsaStatementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    puid: str
    dsa_state: str
    dsa_errors: dict[str, Any] | None
    payload: dict[str, Any]


class DsaRevision(BaseModel):
    payload: dict[str, Any]


class DsaBacklogRead(BaseModel):
    """The DSA outbox: statements by state, those waiting, those whose last call got no answer."""

    counts: dict[str, int]
    waiting: int
    failing: int
    oldest_waiting_since: datetime | None
    oldest_waiting_seconds: float | None
