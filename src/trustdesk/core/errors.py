"""Domain errors. Each maps to one RFC 9457 problem type at the web boundary; services raise
them and never know about HTTP."""

from __future__ import annotations

from typing import Any


class TrustdeskError(Exception):
    """Base of every error a person may see. `title` is short and stable; `detail` explains
    this occurrence and what to do about it."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(TrustdeskError):
    status, type_slug, title = 422, "invalid-input", "The input is not valid"


class NotFound(TrustdeskError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(TrustdeskError):
    status, type_slug, title = 409, "conflict", "Conflict with the current state"


class AuthenticationFailed(TrustdeskError):
    """`audit_reason` is what the audit entry of the refusal records when the caller must not
    learn it (why a token was refused); the answer gives `detail` alone."""

    status, type_slug, title = 401, "authentication-failed", "Authentication failed"

    def __init__(self, detail: str, *, audit_reason: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.audit_reason = audit_reason or detail


class Forbidden(TrustdeskError):
    status, type_slug, title = 403, "forbidden", "Not allowed"


class TooLarge(TrustdeskError):
    status, type_slug, title = 413, "too-large", "Too large"


class UnsupportedMedia(TrustdeskError):
    status, type_slug, title = 415, "unsupported-media", "The media format is not supported"


class Unavailable(TrustdeskError):
    status, type_slug, title = 503, "unavailable", "A dependency is unavailable"


class Overloaded(TrustdeskError):
    """More work waits than the service takes on: come back after `retry_after` seconds
    (sent as `Retry-After`). Nothing of the request was accepted."""

    status, type_slug, title = 429, "overloaded", "Too much work is waiting"

    def __init__(self, detail: str, *, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)
        self.retry_after = retry_after


class NotStored(TrustdeskError):
    """The commit itself failed: nothing of the request was stored, and saying so is the only
    honest answer (never a success status for a change that may not exist)."""

    status, type_slug, title = 503, "not-stored", "The change was not stored"
