"""API shapes of the privacy room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.privacy.models import RightKind


class RightsRequestCreate(BaseModel):
    kind: RightKind
    account_id: str = Field(min_length=1, max_length=128, description="The platform account the request is about.")
    note: str = Field("", max_length=2000, description="How the person's identity was checked, and through which channel.")


class RightsRequestRead(BaseModel):
    """A rights request as staff see it: `reasons` may name a lawful request and is never
    shown to the person; `told` is what the person is told."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    account_id: str
    state: str
    received_at: datetime
    requested_by: str
    reasons: list[dict[str, Any]]
    told: str
    counts: dict[str, int]
    attempts: int
    completed_at: datetime | None
    export_sha256: str | None


class RetentionRun(BaseModel):
    dry_run: bool = Field(False, description="Count what would be emptied, change nothing.")


class AccountRef(BaseModel):
    account_id: str = Field(min_length=1, max_length=128)
