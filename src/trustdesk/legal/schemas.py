"""API shapes of the lawful-request domain (`XCreate` in, `XRead` out)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from trustdesk.core.ids import RowId
from trustdesk.legal.attachments import Upload
from trustdesk.legal.instruments import IssuerKind, RefusalReason
from trustdesk.legal.intake import Submission
from trustdesk.legal.models import EnforcingStateAnswerKind, RequestState
from trustdesk.legal.objections import Via
from trustdesk.legal.registry import NewAgency
from trustdesk.legal.service import CallbackOutcome
from trustdesk.legal.targets import TargetItem, TargetKind, TargetScope
from trustdesk.platform.port import DataCategory


class TargetIn(BaseModel):
    kind: TargetKind | None = Field(None, description="Leave empty to let Trustdesk recognise it.")
    value: str = Field(..., max_length=500)
    chat_id: str | None = Field(None, max_length=128, description="Only the target's records in this chat.")
    period_start: AwareDatetime | None = Field(None, description="The target's own window, inside the order's period.")
    period_end: AwareDatetime | None = None

    def item(self) -> TargetItem:
        kind = self.kind and str(self.kind)
        if self.chat_id is None and self.period_start is None and self.period_end is None:
            return (kind, self.value)
        return (kind, self.value, TargetScope(chat_id=self.chat_id, since=self.period_start, until=self.period_end))


class AttachmentIn(BaseModel):
    filename: str = Field(..., max_length=200)
    content_base64: str

    def upload(self) -> Upload:
        try:
            return Upload(self.filename, base64.b64decode(self.content_base64, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"attachment '{self.filename}' is not valid base64") from exc


class NewAgencyIn(BaseModel):
    """Staff only: an authority not in the registry, recorded unverified (its request is held)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    country: str = Field(..., min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    kind: IssuerKind
    email_domains: list[str] = []
    language: str = Field("en", max_length=8)

    def new_agency(self) -> NewAgency:
        return NewAgency(self.name, self.country.upper(), self.kind, self.email_domains, self.language)


class LawfulRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(..., description="A code from /api/v1/lawful-requests/instruments, e.g. eu_epoc.")
    categories: list[DataCategory] = []
    elements: dict[str, str] = Field(default_factory=dict, description="The instrument's sections, by key.")
    targets: list[TargetIn]
    emergency: bool = False
    period_start: AwareDatetime | None = None
    period_end: AwareDatetime | None = None
    enforcing_state_notified: bool = Field(
        False, description="Ignored where the instrument has the Art. 8 rule: it is computed from the two places below."
    )
    person_country: str | None = Field(
        None, max_length=8, description="Where the person whose data are sought lives: ISO 3166-1 alpha-2, or 'unknown'."
    )
    offence_country: str | None = Field(
        None, max_length=8, description="Where the offence was committed: ISO 3166-1 alpha-2, or 'unknown'."
    )
    stated_due_at: AwareDatetime | None = Field(
        None,
        description="A deadline the order states (a subpoena's return date, the authority's own deadline); the clock "
        "runs to the earlier of it and the statutory one (`deadline_source` says which).",
    )
    language: str = Field("en", max_length=8, description="The order's language (ISO 639); see accepted_languages.")
    sender_email: str | None = Field(
        None,
        max_length=254,
        description="The address a request by e-mail came from, or the officer an agency's system files for.",
    )
    contact_phone: str | None = Field(
        None, max_length=40, description="A telephone number the request gives; never called (the call-back uses the registry's)."
    )
    agency_id: RowId | None = Field(None, description="Staff only: the registered agency that sent a request by post or e-mail.")
    unregistered_agency: NewAgencyIn | None = Field(
        None,
        description="Staff only: an agency not in the registry, recorded unverified; the request is held until it is verified.",
    )
    attachments: list[AttachmentIn] = []

    @field_validator("attachments")
    @classmethod
    def _decodable(cls, value: list[AttachmentIn]) -> list[AttachmentIn]:
        for item in value:
            item.upload()
        return value

    def submission(self) -> Submission:
        return Submission(
            instrument=self.instrument,
            categories=[str(c) for c in self.categories],
            elements=self.elements,
            targets=[t.item() for t in self.targets],
            emergency=self.emergency,
            period_start=self.period_start,
            period_end=self.period_end,
            enforcing_state_notified=self.enforcing_state_notified,
            stated_due_at=self.stated_due_at,
            language=self.language,
            sender_email=self.sender_email,
            contact_phone=self.contact_phone,
            attachments=[a.upload() for a in self.attachments],
            person_country=self.person_country,
            offence_country=self.offence_country,
        )


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    raw: str
    normalised: str
    account_id: str | None
    message_id: str | None
    resolved: bool
    note: str
    chat_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    from_authority: bool
    author: str
    body: str
    sent_at: datetime


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_state: str | None
    to_state: str
    actor: str
    reason: str
    refusal_reason: str | None
    at: datetime


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    filename: str
    content_type: str
    size: int
    sha256: str


class LawfulRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    agency_id: int
    officer_id: int | None
    channel: str
    instrument: str
    catalogue_version: str
    issuer_kind: str
    emergency: bool
    categories: list[str]
    elements: dict[str, str]
    state: str
    received_at: datetime
    due_at: datetime | None
    not_before: datetime | None
    objection_ends_at: datetime | None
    expires_at: datetime | None
    deadline_statutory: bool
    deadline_source: str = Field(
        "statutory", description="Which deadline `due_at` is: statutory, stated (in the order, earlier), target, none."
    )
    stated_due_at: datetime | None = None
    statutory_due_at: datetime | None = None
    verdict: str
    checklist: list[dict[str, Any]]
    held: bool
    flags: list[str]
    language: str = "en"
    translated_to: str | None = None
    person_country: str | None = None
    offence_country: str | None = None
    enforcing_state: str | None = None
    enforcing_state_answer: str | None = None
    enforcing_state_refused: list[str] = []


class LawfulRequestDetail(LawfulRequestRead):
    targets: list[TargetRead] = []
    attachments: list[AttachmentRead] = []
    messages: list[MessageRead] = []
    transitions: list[TransitionRead] = []


class LawfulRequestCreated(BaseModel):
    request: LawfulRequestRead
    receipt: dict[str, Any]


class TransitionCreate(BaseModel):
    to_state: RequestState
    reason: str = Field(..., min_length=1, max_length=2000)
    refusal_reason: RefusalReason | None = None


class MessageCreate(BaseModel):
    body: str = Field(..., min_length=1, max_length=10_000)


class ElementsCreate(BaseModel):
    elements: dict[str, str]
    language: str | None = Field(
        None, max_length=8, description="Set when these are the order's core elements translated into an accepted language."
    )


class Withdrawal(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000)


class CallbackCreate(BaseModel):
    spoke_to: str = Field("", max_length=200)
    outcome: CallbackOutcome
    note: str = Field("", max_length=2000)


class AgencyCreate(BaseModel):
    code: str
    name: str
    country: str
    kind: IssuerKind
    email_domains: list[str]
    callback_phone: str
    callback_source: str
    language: str = "en"
    parent_code: str | None = None


class AgencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    country: str
    kind: str
    parent_id: int | None
    email_domains: list[str]
    callback_phone: str
    callback_source: str
    language: str
    verified: bool = True


class AgencyVerification(BaseModel):
    callback_phone: str = Field(..., max_length=40, description="From an official source, never from a request.")
    callback_source: str = Field(..., min_length=1, max_length=300)
    reason: str = Field(..., min_length=1, max_length=2000)


class OfficerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agency_id: int
    name: str
    rank: str
    email: str
    supervisor: str
    state: str
    confirmed_at: datetime | None


class OfficerStateChange(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000)


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    kind: str
    deadline_at: datetime
    raised_at: datetime
    role: str
    detail: str


class EnforcingStateAnswerCreate(BaseModel):
    """The notified enforcing State's answer (WISP `groundsforrefusal`)."""

    model_config = ConfigDict(extra="forbid")
    answer: EnforcingStateAnswerKind = Field(
        ..., description="no_grounds, partial_grounds or full_grounds (lapsed is the job's)."
    )
    categories: list[DataCategory] = Field([], description="Partial grounds only: the categories refused.")
    note: str = Field("", max_length=2000)


class EnforcingStateAnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    state: str
    answer: str
    categories: list[str]
    via: Via
    recorded_by: str
    note: str
    at: datetime
