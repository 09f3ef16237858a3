"""Time. Everything is stored and computed in UTC; the clock is injectable so that tests and
deadline arithmetic can run at any instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at + timedelta(**delta)


def as_utc(value: datetime, *, naive_is_utc: bool = False) -> datetime:
    """The same instant in UTC: the one helper for it. A naive datetime is refused (an instant
    without a zone is a bug), unless the caller knows it was stored in UTC (`naive_is_utc`:
    SQLite hands back naive datetimes)."""
    if value.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("an instant needs an aware datetime: a naive one cannot be placed in UTC")
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
