"""Platform events as the pipeline accepts them. Each carries an `id` chosen by the platform
(its own event id, or message id plus edit number): handling is idempotent by that id, so
the platform may resend, and the bus may redeliver, without anything happening twice.

Validation is strict (unknown fields refused, times must carry a zone, hashes must be hex
of the right length) because an event that slips through half-understood becomes a wrong
verdict later."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from trustdesk.core.errors import InvalidInput
from trustdesk.platform.port import ChatKind

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@/-]+$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Pdq = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Md5 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{32}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
MAX_BATCH = 5000


class EventKind(StrEnum):
    MESSAGE = "message"
    MEDIA = "media"
    ACCOUNT_CREATED = "account_created"
    CHAT_CREATED = "chat_created"
    CHAT_JOINED = "chat_joined"
    REPORT = "report"


class SubjectKind(StrEnum):
    MESSAGE = "message"
    ACCOUNT = "account"
    CHAT = "chat"


class MediaRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    media_id: Ref
    content_type: str | None = None
    pdq: Pdq | None = None
    md5: Md5 | None = None
    sha256: Sha256 | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EventId
    platform: Ref = "demo"
    occurred_at: AwareDatetime
    actor: Ref = Field(description="The account that did it.")


class MessageEvent(_Event):
    kind: Literal[EventKind.MESSAGE]
    message: Ref
    chat: Ref
    chat_kind: ChatKind
    text: Text | None = None
    media: list[MediaRef] = Field(default_factory=list, max_length=100)


class MediaEvent(_Event):
    kind: Literal[EventKind.MEDIA]
    media: list[MediaRef] = Field(min_length=1, max_length=100)
    message: Ref | None = None
    chat: Ref | None = None


class AccountCreatedEvent(_Event):
    kind: Literal[EventKind.ACCOUNT_CREATED]
    username: Annotated[str, StringConstraints(max_length=64)]
    display_name: Annotated[str, StringConstraints(max_length=256)] = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class ChatCreatedEvent(_Event):
    kind: Literal[EventKind.CHAT_CREATED]
    chat: Ref
    chat_kind: ChatKind
    title: Annotated[str, StringConstraints(max_length=256)] = ""


class ChatJoinedEvent(_Event):
    kind: Literal[EventKind.CHAT_JOINED]
    chat: Ref
    chat_kind: ChatKind


class ReportEvent(_Event):
    kind: Literal[EventKind.REPORT]
    subject_kind: SubjectKind
    subject: Ref
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


Event = Annotated[
    MessageEvent | MediaEvent | AccountCreatedEvent | ChatCreatedEvent | ChatJoinedEvent | ReportEvent,
    Field(discriminator="kind"),
]
EVENT = TypeAdapter(Event)
EVENTS = TypeAdapter(list[Event])
EVENT_MODELS = (MessageEvent, MediaEvent, AccountCreatedEvent, ChatCreatedEvent, ChatJoinedEvent, ReportEvent)
# What a rule may read as `event.<field>`: the union of every kind's fields, plus the derived ones.
EVENT_FIELDS: frozenset[str] = frozenset(name for model in EVENT_MODELS for name in model.model_fields) | {"media_count"}
TEXT_FIELDS = frozenset({"text", "username", "display_name", "title", "reason"})
ENTITY_FIELDS = {"actor": SubjectKind.ACCOUNT, "chat": SubjectKind.CHAT, "message": SubjectKind.MESSAGE, "subject": None}


def parse_event(data: bytes | str) -> Event:
    """One event from JSON, or InvalidInput that says which field is wrong and why."""
    try:
        return EVENT.validate_json(data)
    except ValidationError as exc:
        raise InvalidInput(
            f"The event is not valid: {describe(exc)}", errors=exc.errors(include_url=False, include_input=False)
        ) from exc


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "(the event)"
        parts.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def subject_of(event: Event) -> tuple[SubjectKind, str]:
    """What a case or an action on this event is about by default."""
    if isinstance(event, MessageEvent) or (isinstance(event, MediaEvent) and event.message):
        return SubjectKind.MESSAGE, event.message  # type: ignore[return-value]
    if isinstance(event, ReportEvent):
        return event.subject_kind, event.subject
    if isinstance(event, ChatCreatedEvent):
        return SubjectKind.CHAT, event.chat
    return SubjectKind.ACCOUNT, event.actor
