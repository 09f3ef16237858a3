"""Waiting in tests: for a state, never for a fixed time.

A test that sleeps a fixed time, or gives a server two seconds to start, passes on an idle
machine and fails on a loaded one. Every wait in the suite polls for the state it needs, up to
a deadline that is generous (a minute by default), because the deadline is only reached when
something is wrong. On a machine slower still, TRUSTDESK_TEST_PATIENCE multiplies every
deadline (`TRUSTDESK_TEST_PATIENCE=3 make test`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_S = 60.0


def patience(seconds: float = DEFAULT_S) -> float:
    """`seconds`, multiplied by TRUSTDESK_TEST_PATIENCE (read when asked, not at import)."""
    return seconds * float(os.environ.get("TRUSTDESK_TEST_PATIENCE", "1"))


def wait_until(
    check: Callable[[], T], *, seconds: float = DEFAULT_S, interval: float = 0.05, what: str | Callable[[], str] = "the condition"
) -> T:
    """Call `check` until it returns something truthy, and return that; AssertionError once
    `patience(seconds)` have passed. `what` (or what it returns) says what was awaited."""
    deadline = time.monotonic() + patience(seconds)
    while True:
        if result := check():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what() if callable(what) else what}: not true within {patience(seconds):.0f}s")
        time.sleep(interval)
