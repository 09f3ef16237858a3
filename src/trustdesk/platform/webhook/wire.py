"""The webhook protocol's vocabulary, shared by the adapter (Trustdesk's side) and the
example server (a platform's side): which operations exist, what each one's body and answer
look like, and how the port's dataclasses travel as JSON.

Every operation is `POST <base_url>/<operation>` with a JSON object body, signed (see
signing.py). The answer is JSON: 200 with the result, 404 for an unknown id, 400 or 422 for
a request the platform refuses as malformed, 5xx when the platform failed (Trustdesk
retries). docs/webhook.md is the readable version of this file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from trustdesk.platform.port import (
    Account,
    ActionResult,
    Chat,
    DataCategory,
    HeldData,
    MediaItem,
    Message,
    PlatformError,
)

T = TypeVar("T")
IDEMPOTENCY_HEADER = "Idempotency-Key"
PROTOCOL_VERSION = "2026-01"
VERSION_HEADER = "Trustdesk-Webhook-Version"


class Operation(StrEnum):
    """One per method of the platform port; the path segment after the base URL."""

    GET_ACCOUNT = "get_account"
    FIND_ACCOUNT = "find_account"
    GET_CHAT = "get_chat"
    GET_MESSAGE = "get_message"
    GET_MEDIA = "get_media"
    LIST_MESSAGES = "list_messages"
    CHAT_CONTEXT = "chat_context"
    REMOVE_MESSAGE = "remove_message"
    RESTORE_MESSAGE = "restore_message"
    RESTRICT_MESSAGE = "restrict_message"
    LIFT_MESSAGE_RESTRICTION = "lift_message_restriction"
    RESTRICT_ACCOUNT = "restrict_account"
    SUSPEND_ACCOUNT = "suspend_account"
    REINSTATE_ACCOUNT = "reinstate_account"
    CLOSE_CHAT = "close_chat"
    REOPEN_CHAT = "reopen_chat"
    CATEGORIES_HELD = "categories_held"
    RETRIEVE = "retrieve"

    @property
    def is_action(self) -> bool:
        """Actions change the platform: they carry an idempotency key, so that a retry after
        a lost answer does not act twice."""
        return self in ACTIONS


ACTIONS = frozenset(
    {
        Operation.REMOVE_MESSAGE,
        Operation.RESTORE_MESSAGE,
        Operation.RESTRICT_MESSAGE,
        Operation.LIFT_MESSAGE_RESTRICTION,
        Operation.RESTRICT_ACCOUNT,
        Operation.SUSPEND_ACCOUNT,
        Operation.REINSTATE_ACCOUNT,
        Operation.CLOSE_CHAT,
        Operation.REOPEN_CHAT,
    }
)


@dataclass(frozen=True)
class MediaAnswer:
    """`get_media` answers the item and its bytes, base64 in JSON."""

    media: MediaItem
    data_b64: str


@dataclass(frozen=True)
class FoundAccount:
    """`find_account` answers `{"account": null}` for nobody, which is not an error."""

    account: Account | None


@dataclass(frozen=True)
class MessageList:
    messages: list[Message]


@dataclass(frozen=True)
class Categories:
    categories: list[DataCategory]


ANSWERS: dict[Operation, type] = {
    Operation.GET_ACCOUNT: Account,
    Operation.FIND_ACCOUNT: FoundAccount,
    Operation.GET_CHAT: Chat,
    Operation.GET_MESSAGE: Message,
    Operation.GET_MEDIA: MediaAnswer,
    Operation.LIST_MESSAGES: MessageList,
    Operation.CHAT_CONTEXT: MessageList,
    Operation.CATEGORIES_HELD: Categories,
    Operation.RETRIEVE: HeldData,
    **{action: ActionResult for action in ACTIONS},
}

_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(kind: type) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def encode(value: Any) -> Any:
    """A port dataclass (or anything pydantic knows) as JSON-ready data: times in ISO 8601."""
    return _adapter(type(value)).dump_python(value, mode="json")


def decode(kind: type[T], data: Any, *, operation: str) -> T:
    """Parse an answer strictly; a platform that answers the wrong shape gets a PlatformError
    naming the operation and the first problem, not a KeyError deep in Trustdesk."""
    try:
        return _adapter(kind).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        raise PlatformError(f"The platform's answer to {operation} is malformed at {where}: {first['msg']}") from None
