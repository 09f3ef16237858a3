"""The platform port over HTTP, for platforms that are neither the demo nor Matrix: every port
operation is a signed `POST <base_url>/<operation>` to an endpoint the platform runs (see
wire.py for the shapes, docs/webhook.md for the protocol and a worked example).

Why each behaviour:
- Signed (`Trustdesk-Signature`, HMAC-SHA256 over timestamp and body): the platform must know
  an action came from Trustdesk, and a captured request cannot be replayed after the
  tolerance window. Each attempt is signed afresh, so a slow retry is not refused as stale.
- Retried with exponential backoff and jitter on network errors, timeouts and 5xx: a
  removal ordered under a one-hour clock must survive a platform's brief hiccup.
- Never retried on 4xx: the platform understood and said no; retrying would not change that.
- Actions carry an `Idempotency-Key` (the same on every retry of one call): when an answer is
  lost after the platform acted, the retry gets the first answer instead of acting twice.
Events do not come through here: the platform sends them to the pipeline's ingest API."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from trustdesk.core import signing
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.settings import Settings
from trustdesk.platform.port import (
    Account,
    ActionResult,
    Chat,
    ChatKind,
    DataCategory,
    HeldData,
    MediaItem,
    Message,
    Platform,
    PlatformError,
    territories_of,
)
from trustdesk.platform.webhook import wire
from trustdesk.platform.webhook.wire import Operation

T = TypeVar("T")


class _Transient(Exception):
    """A failure worth another attempt (network, timeout, 5xx); carries what to report."""


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise ValueError("An action needs a reason: it is recorded and shown to the user.")
    return reason.strip()


def _until(until: datetime | None) -> str | None:
    if until is None:
        return None
    if until.tzinfo is None or until <= datetime.now(UTC):
        raise ValueError("'until' must be an aware time in the future.")
    return until.isoformat()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class WebhookPlatform(Platform):
    name = "webhook"

    def __init__(
        self,
        *,
        base_url: str,
        secret: bytes,
        timeout_s: float = 5.0,
        attempts: int = 4,
        backoff_s: float = 0.25,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret:
            raise ValueError("The webhook connector needs a shared secret to sign its requests.")
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/", timeout=timeout_s, transport=transport)
        self._secret = secret
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._clock = clock or SystemClock()

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookPlatform:
        if not settings.webhook_base_url or settings.webhook_secret is None:
            raise ValueError("platform = 'webhook' needs TRUSTDESK_WEBHOOK_BASE_URL and TRUSTDESK_WEBHOOK_SECRET.")
        return cls(
            base_url=settings.webhook_base_url,
            secret=settings.webhook_secret.get_secret_value().encode(),
            timeout_s=settings.webhook_timeout_s,
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
        )

    def close(self) -> None:
        self._http.close()

    # -- the wire ---------------------------------------------------------------------------

    def _call(self, operation: Operation, body: dict[str, Any], *, missing: str | None = None) -> Any:
        """One logical call: signed, retried while transient, its answer's JSON returned."""
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        delivery = uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            signing.DELIVERY_HEADER: delivery,
            wire.VERSION_HEADER: wire.PROTOCOL_VERSION,
        }
        if operation.is_action:
            headers[wire.IDEMPOTENCY_HEADER] = delivery
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            reraise=True,
            wait=wait_exponential_jitter(multiplier=self._backoff_s, jitter=self._backoff_s, max=30),
            retry=retry_if_exception_type(_Transient),
        )
        try:
            response = retrying(self._attempt, operation, payload, headers)
        except _Transient as exc:
            raise PlatformError(f"The platform did not complete {operation} after {self._attempts} attempts: {exc}") from exc
        return self._answer(operation, response, missing=missing)

    def _attempt(self, operation: Operation, payload: bytes, headers: dict[str, str]) -> httpx.Response:
        signed = {**headers, signing.SIGNATURE_HEADER: signing.sign(secret=self._secret, body=payload, at=self._clock.now())}
        try:
            response = self._http.post(operation.value, content=payload, headers=signed)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            raise _Transient(f"answered {response.status_code} {_words(response)}")
        return response

    def _answer(self, operation: Operation, response: httpx.Response, *, missing: str | None) -> Any:
        if response.status_code == 404 and missing is not None:
            raise LookupError(f"The platform has no {missing}")
        if not response.is_success:
            raise PlatformError(f"The platform refused {operation} ({response.status_code}): {_words(response)}")
        try:
            return response.json()
        except ValueError:
            raise PlatformError(f"The platform's answer to {operation} is not JSON.") from None

    def _get(self, kind: type[T], operation: Operation, body: dict[str, Any], *, missing: str | None = None) -> T:
        return wire.decode(kind, self._call(operation, body, missing=missing), operation=operation)

    # -- lookups ----------------------------------------------------------------------------

    def get_account(self, account_id: str) -> Account:
        return self._get(Account, Operation.GET_ACCOUNT, {"account_id": account_id}, missing=f"account {account_id}")

    def find_account(self, *, username: str | None = None, phone: str | None = None) -> Account | None:
        if username is None and phone is None:
            raise ValueError("find_account needs a username or a phone")
        return self._get(wire.FoundAccount, Operation.FIND_ACCOUNT, {"username": username, "phone": phone}).account

    def get_chat(self, chat_id: str) -> Chat:
        return self._get(Chat, Operation.GET_CHAT, {"chat_id": chat_id}, missing=f"chat {chat_id}")

    def get_message(self, message_id: str) -> Message:
        return self._get(Message, Operation.GET_MESSAGE, {"message_id": message_id}, missing=f"message {message_id}")

    def get_media(self, media_id: str) -> tuple[MediaItem, bytes]:
        answer = self._get(wire.MediaAnswer, Operation.GET_MEDIA, {"media_id": media_id}, missing=f"media {media_id}")
        data = base64.b64decode(answer.data_b64)
        if hashlib.sha256(data).hexdigest() != answer.media.sha256.lower():
            raise PlatformError(f"The platform's bytes for media {media_id} do not match its own SHA-256.")
        return answer.media, data

    def list_messages(
        self, account_id: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 1000
    ) -> list[Message]:
        body = {"account_id": account_id, "since": _time(since), "until": _time(until), "limit": limit}
        return self._get(wire.MessageList, Operation.LIST_MESSAGES, body, missing=f"account {account_id}").messages

    def chat_context(self, message_id: str, *, before: int = 5, after: int = 5) -> list[Message]:
        body = {"message_id": message_id, "before": before, "after": after}
        return self._get(wire.MessageList, Operation.CHAT_CONTEXT, body, missing=f"message {message_id}").messages

    # -- actions ----------------------------------------------------------------------------

    def _act(self, operation: Operation, subject: str, body: dict[str, Any]) -> ActionResult:
        return self._get(ActionResult, operation, body, missing=subject)

    def remove_message(self, message_id: str, *, reason: str) -> ActionResult:
        body = {"message_id": message_id, "reason": _reason(reason)}
        return self._act(Operation.REMOVE_MESSAGE, f"message {message_id}", body)

    def restore_message(self, message_id: str, *, reason: str) -> ActionResult:
        body = {"message_id": message_id, "reason": _reason(reason)}
        return self._act(Operation.RESTORE_MESSAGE, f"message {message_id}", body)

    def restrict_message(
        self, message_id: str, *, reason: str, territories: frozenset[str] | None = None, until: datetime | None = None
    ) -> ActionResult:
        """Territories travel as a sorted list of ISO 3166-1 alpha-2 codes, or null for everywhere."""
        scope = territories_of(territories)
        body = {
            "message_id": message_id,
            "reason": _reason(reason),
            "until": _until(until),
            "territories": sorted(scope) if scope is not None else None,
        }
        return self._act(Operation.RESTRICT_MESSAGE, f"message {message_id}", body)

    def lift_message_restriction(self, message_id: str, *, reason: str) -> ActionResult:
        body = {"message_id": message_id, "reason": _reason(reason)}
        return self._act(Operation.LIFT_MESSAGE_RESTRICTION, f"message {message_id}", body)

    def restrict_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        body = {"account_id": account_id, "reason": _reason(reason), "until": _until(until)}
        return self._act(Operation.RESTRICT_ACCOUNT, f"account {account_id}", body)

    def suspend_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        body = {"account_id": account_id, "reason": _reason(reason), "until": _until(until)}
        return self._act(Operation.SUSPEND_ACCOUNT, f"account {account_id}", body)

    def reinstate_account(self, account_id: str, *, reason: str) -> ActionResult:
        body = {"account_id": account_id, "reason": _reason(reason)}
        return self._act(Operation.REINSTATE_ACCOUNT, f"account {account_id}", body)

    def close_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        return self._act(Operation.CLOSE_CHAT, f"chat {chat_id}", {"chat_id": chat_id, "reason": _reason(reason)})

    def reopen_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        return self._act(Operation.REOPEN_CHAT, f"chat {chat_id}", {"chat_id": chat_id, "reason": _reason(reason)})

    # -- data held --------------------------------------------------------------------------

    def categories_held(self, chat_kind: ChatKind) -> frozenset[DataCategory]:
        answer = self._get(wire.Categories, Operation.CATEGORIES_HELD, {"chat_kind": chat_kind.value})
        return frozenset(answer.categories)

    def retrieve(
        self, account_id: str, category: DataCategory, *, since: datetime | None = None, until: datetime | None = None
    ) -> HeldData:
        body = {"account_id": account_id, "category": category.value, "since": _time(since), "until": _time(until)}
        return self._get(HeldData, Operation.RETRIEVE, body, missing=f"account {account_id}")


def _words(response: httpx.Response) -> str:
    """The platform's own explanation, short, for the record."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("error") or body.get("detail") or body)[:200] if isinstance(body, dict) else str(body)[:200]
