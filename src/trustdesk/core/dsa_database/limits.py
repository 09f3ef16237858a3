"""The DSA Transparency Database's rate limits for one account (issue #22: 200 requests a
second and 12,000 a minute), kept on the client's side so that a submitter never meets the
429 it would otherwise cause. Sliding windows over the times of the latest requests: each
`wait()` blocks (through the given `sleep`) until one more request fits in both; `answered()`
moves that request's time to when its answer came, since the service counted it somewhere
between the two (a first call's connection can take longer than the gap between calls)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

PER_SECOND, PER_MINUTE = 200, 12_000


class RateLimit:
    def __init__(
        self,
        *,
        per_second: int = PER_SECOND,
        per_minute: int = PER_MINUTE,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        slack: float = 0.01,
    ) -> None:
        if per_second < 1 or per_minute < 1:
            raise ValueError("rate limits must allow at least one request")
        self.windows = ((1.0, per_second, deque[float]()), (60.0, per_minute, deque[float]()))
        self.now, self.sleep, self.slack = now, sleep, slack
        self.waited = 0.0  # seconds spent waiting, in all (for the console and the benchmark)

    def wait(self) -> None:
        """Block until one more request keeps both windows within their limits, and count it."""
        while True:
            at = self.now()
            delay = 0.0
            for span, limit, times in self.windows:
                while times and times[0] <= at - span:
                    times.popleft()
                if len(times) >= limit:
                    delay = max(delay, times[0] + span - at + self.slack)
            if delay <= 0:
                break
            self.waited += delay
            self.sleep(delay)
        for _, _, times in self.windows:
            times.append(at)

    def answered(self) -> None:
        """The latest request got its answer: count it from now (one submitter, one thread)."""
        at = self.now()
        for _, _, times in self.windows:
            if times:
                times[-1] = max(times[-1], at)
