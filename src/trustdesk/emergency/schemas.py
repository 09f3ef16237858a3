"""API shapes of the emergency lane."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.emergency.models import ThreatSource


class RemovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    state: str
    automatic: bool
    why_not_automatic: str
    received_at: datetime
    due_at: datetime | None
    removed_at: datetime | None
    authority_told_at: datetime | None
    confirmed_at: datetime | None
    confirmed_by: str | None


class RemovalRow(BaseModel):
    removal: RemovalRead
    reference: str
    time_left: str
    overdue: bool
    waiting_for: list[str] = []  # missing elements of an incomplete order: its hour has not started


class ThreatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    state: str
    source: str
    summary: str
    place_country: str | None
    suspect_country: str | None
    victim_country: str | None
    recipients: list[dict[str, Any]]
    recipient_reason: str
    draft: str
    contact_points_version: str
    created_at: datetime
    decided_at: datetime | None


class LaneFailureRead(BaseModel):
    """A TCO order the lane failed on: retried on every sweep until it is taken in."""

    model_config = ConfigDict(from_attributes=True)

    request_id: int
    reference: str
    error: str
    attempts: int
    last_at: datetime


class OverviewRead(BaseModel):
    removals: list[RemovalRow]
    threats: list[ThreatRead]
    open_pages: int
    lane_failures: list[LaneFailureRead] = []


class PersonRemoval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., max_length=2000)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


class ThreatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(..., max_length=5000)
    source: ThreatSource = ThreatSource.STAFF
    source_ref: str | None = Field(None, max_length=120)
    message_id: str | None = Field(None, max_length=255)
    account_id: str | None = Field(None, max_length=255)
    place: str | None = Field(None, description="ISO 3166-1 alpha-2: where it happens")
    suspect: str | None = Field(None, description="where the suspect is")
    victim: str | None = Field(None, description="where the victim is")


class ThreatSend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    draft: str | None = Field(None, max_length=20000)
    note: str = Field("", max_length=2000)
