"""The DSA Transparency Database's rate limits for one account (issue #22: 200 requests a
second and 12,000 a minute), kept on the client's side so that a submitter never meets the
429 it would otherwise cause. Sliding windows over the times of the latest requests: each
`wait()` blocks (through the given `sleep`) until one more request fits in both."""

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
    ) -> None:
        if per_second < 1 or per_minute < 1:
            raise ValueError("rate limits must allow at least one request")
        self.windows = ((1.0, per_second, deque[float]()), (60.0, per_minute, deque[float]()))
        self.now, self.sleep = now, sleep
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
                    delay = max(delay, times[0] + span - at)
            if delay <= 0:
                break
            self.waited += delay
            self.sleep(delay)
        for _, _, times in self.windows:
            times.append(at)
