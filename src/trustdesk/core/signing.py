"""Signatures on outgoing webhook requests, so a platform (or a paging relay) can tell that a
request came from Trustdesk and was not replayed later. Shared by the webhook platform adapter
(platform/webhook/) and the webhook pager (core/paging/adapters.py).

Scheme (the one Stripe and Coop use, so receivers have libraries for it): the header
`Trustdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. A receiver
recomputes the HMAC with the shared secret, compares in constant time, and rejects a
timestamp older than its tolerance."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from trustdesk.core.errors import AuthenticationFailed

SIGNATURE_HEADER = "Trustdesk-Signature"
DELIVERY_HEADER = "Trustdesk-Delivery"  # unique per logical request, repeated on retries
DEFAULT_TOLERANCE_S = 300


def sign(*, secret: bytes, body: bytes, at: datetime) -> str:
    """The header value for `body` sent at `at`."""
    stamp = int(at.timestamp())
    mac = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(*, secret: bytes, body: bytes, header: str, now: datetime, tolerance_s: int = DEFAULT_TOLERANCE_S) -> None:
    """Raise `AuthenticationFailed` unless `header` signs `body` with `secret` recently enough.
    Receivers written in Python can call this directly; docs/webhook.md shows the same in a
    few lines for others."""
    fields = _parse(header)
    try:
        stamp = int(fields["t"])
    except (KeyError, ValueError):
        raise AuthenticationFailed("The signature header has no valid timestamp 't'.") from None
    if abs(now.timestamp() - stamp) > tolerance_s:
        raise AuthenticationFailed("The signature is too old or from the future.")
    expected = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("v1", "")):
        raise AuthenticationFailed("The signature does not match the body.")


def _parse(header: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in header.split(",") if "=" in part)
    return {key.strip(): value.strip() for key, value in pairs}
