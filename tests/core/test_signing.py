"""The request signature (core/signing.py) that the webhook platform adapter and the webhook
pager both send: it verifies with the secret that made it, and not after a change of body,
secret or too much time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trustdesk.core.errors import AuthenticationFailed
from trustdesk.core.signing import DEFAULT_TOLERANCE_S, sign, verify

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"page_id": 7}'


def test_a_signature_verifies_with_its_secret_within_the_tolerance() -> None:
    header = sign(secret=b"k", body=BODY, at=AT)
    assert header.startswith(f"t={int(AT.timestamp())},v1=")
    verify(secret=b"k", body=BODY, header=header, now=AT + timedelta(seconds=DEFAULT_TOLERANCE_S))


@pytest.mark.parametrize(
    ("secret", "body", "now", "reason"),
    [
        (b"other", BODY, AT, "does not match"),
        (b"k", BODY + b" ", AT, "does not match"),
        (b"k", BODY, AT + timedelta(seconds=DEFAULT_TOLERANCE_S + 1), "too old"),
        (b"k", BODY, AT - timedelta(seconds=DEFAULT_TOLERANCE_S + 1), "from the future"),
    ],
)
def test_a_changed_body_another_secret_or_a_stale_time_is_refused(secret: bytes, body: bytes, now: datetime, reason: str) -> None:
    with pytest.raises(AuthenticationFailed, match=reason):
        verify(secret=secret, body=body, header=sign(secret=b"k", body=BODY, at=AT), now=now)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc"])
def test_a_header_without_a_timestamp_is_refused(header: str) -> None:
    with pytest.raises(AuthenticationFailed, match="no valid timestamp"):
        verify(secret=b"k", body=BODY, header=header, now=AT)
