"""API shapes for notices and trusted flaggers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.ids import RowId


class NoticeCreate(BaseModel):
    """Art. 16(2) DSA: the reason, the exact location, an explanation, the notifier's name and
    e-mail (optional for child sexual abuse material), and a good-faith statement."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="A report reason key, see GET /report-reasons.")
    subject_kind: str = Field(description="message | account | media | chat")
    subject_id: str = Field(
        min_length=1,
        max_length=2000,
        description="What is reported, as the notifier knows it: an id, a username or @handle (an account), or a link to "
        "the message, account or chat (matrix.to, Element, the demo messenger's share links); a link sets its own kind.",
    )
    location: str | None = Field(None, max_length=2000, description="The link or place as the notifier gives it.")
    explanation: str = Field(max_length=5000)
    notifier_name: str | None = Field(None, max_length=200)
    notifier_email: str | None = Field(None, max_length=254)
    good_faith: bool
    language: str | None = Field(None, max_length=2)


class NoticeReceipt(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    token: str
    received_at: datetime
    reason: str
    subject_kind: str
    subject_id: str
    outcome: str | None
    outcome_text: str | None
    decided_at: datetime | None


class ReportReasonRead(BaseModel):
    key: str
    group: str
    label: str
    anonymous_allowed: bool


class TrustedFlaggerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation: str = Field(max_length=200)
    fields: list[str]
    email: str = Field(max_length=254)
    awarded_by: str = Field(max_length=200)
    token_id: RowId | None = None


class TrustedFlaggerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    organisation: str
    fields: list[str]
    email: str
    awarded_by: str
    token_id: int | None
    active: bool
