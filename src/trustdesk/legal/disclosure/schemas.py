"""API shapes of policy decisions, disclosures, holds and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.ids import RowId


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DecisionRead(Read):
    id: int
    request_id: int
    outcome: str
    categories: list[str]
    widenable: list[str]
    accounts: list[str]
    period_start: datetime | None
    period_end: datetime | None
    reasons: list[dict[str, Any]]
    refusal_reason: str | None
    extra_reviews: int
    callback_required: bool
    not_before: datetime | None
    narrowed: bool
    not_held: list[list[str]]
    grounds: list[dict[str, Any]] = []
    policy_version: str
    jurisdictions_version: str
    proposed_by: str
    proposed_at: datetime


class DecisionCreate(BaseModel):
    note: str = Field("", max_length=2000)


class DryRunCreate(BaseModel):
    draft: str = Field(..., min_length=1, max_length=200_000, description="The draft policy file (TOML).")


class DryRunRowRead(BaseModel):
    request_id: int
    reference: str
    decided: str
    decided_under: str
    draft_outcome: str
    draft_categories: list[str]
    draft_rules: list[str]
    changed: bool


class DryRunRead(BaseModel):
    draft_version: str
    changed: int
    rows: list[DryRunRowRead]


class DisclosureRead(Read):
    id: int
    request_id: int
    decision_id: int
    state: str
    emergency: bool
    categories: list[str]
    accounts: list[str]
    period_start: datetime | None
    period_end: datetime | None
    not_before: datetime | None
    prepared_by: str
    prepared_at: datetime
    approved_at: datetime | None


class Note(BaseModel):
    note: str = Field("", max_length=2000)


class Widening(BaseModel):
    categories: list[str] = Field(..., min_length=1)
    note: str = Field(..., min_length=3, max_length=2000)


class PackageRead(Read):
    id: int
    disclosure_id: int
    request_id: int
    sha256: str
    size: int
    key_id: str
    link_expires_at: datetime
    created_at: datetime


class PackageCreated(BaseModel):
    package: PackageRead
    link: str = Field(
        description="Shown once: the requesting officer's portal link, or, for a request an agency's system filed, "
        "the API address its token fetches the package from."
    )


class HoldRead(Read):
    id: int
    request_id: int
    account_id: str
    categories: list[str]
    state: str
    snapshot_sha256: str
    frozen_at: datetime
    expires_at: datetime
    extensions: int
    released_at: datetime | None
    converted_to_request_id: int | None


class HoldExtension(BaseModel):
    reason: str = Field(..., min_length=3, max_length=2000)


class HoldConversion(BaseModel):
    production_request_id: RowId


class NoticeRead(Read):
    id: int
    request_id: int
    account_id: str
    state: str
    not_before: datetime | None
    basis: str
    sent_at: datetime | None
    channel: str | None


class NoticeQueueRead(BaseModel):
    due: list[NoticeRead]
    waiting: list[NoticeRead]
    withheld: list[NoticeRead]
    sent: list[NoticeRead]


class NoticeSent(BaseModel):
    channel: str = Field(..., min_length=2, max_length=32)


class ReadyPackageRead(BaseModel):
    """A package waiting for the agency's system (no data: fetch it by its id)."""

    id: int
    request_id: int
    reference: str
    sha256: str
    size: int
    key_id: str
    expires_at: datetime
    downloaded: bool


class ExtensionAsk(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000)


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    state: str
    reason: str
    detail: str
    asked_at: datetime
    expires_before: datetime | None
    expires_after: datetime | None


class PreservationRead(BaseModel):
    request_id: int
    reference: str
    expires_at: datetime | None
    extensions: int
    max_extensions: int
    extension_days: int | None
    holds: list[dict[str, Any]]
    asks: list[ExtensionRead]
