"""The in-process bus: the embedded default. A deque guarded by a lock, so that producers and
the consumer may live on different threads or event loops (the web server's request threads
and its background worker). Nothing survives the process: that is what NATS is for."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from trustdesk.core.bus.port import DEFAULT_PREFIX, Bus, BusStats, DeadLetter, Delivery
from trustdesk.core.clock import Clock, SystemClock

_POLL_SECONDS = 0.005


@dataclass
class _Message:
    subject: str
    data: bytes
    msg_id: str | None
    attempt: int = 0
    not_before: float = 0.0
    value: object = None
    ref: int | None = None  # the journal's row, where a subclass keeps one


class InProcessBus(Bus):
    def __init__(self, *, prefix: str = DEFAULT_PREFIX, dedup_window: int = 100_000, clock: Clock | None = None) -> None:
        self.prefix = prefix
        self._queue: deque[_Message] = deque()
        self._in_flight = 0
        self._dead: dict[int, DeadLetter] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._recent_ids: deque[str] = deque(maxlen=dedup_window)
        self._recent_set: set[str] = set()
        self._clock = clock or SystemClock()

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, subject: str, data: bytes, *, msg_id: str | None = None) -> None:
        self.publish_now(subject, data, msg_id=msg_id)

    async def publish_many(
        self, items: Sequence[tuple[str, bytes, str | None]], *, values: Sequence[object] | None = None
    ) -> None:
        for position, (subject, data, msg_id) in enumerate(items):
            self.publish_now(subject, data, msg_id=msg_id, value=values[position] if values is not None else None)

    def publish_now(self, subject: str, data: bytes, *, msg_id: str | None = None, value: object = None) -> None:
        """Synchronous publish, for callers without an event loop. Like JetStream, a message
        whose id was seen recently is dropped as a duplicate."""
        with self._lock:
            if self._admit(msg_id):
                self._queue.append(_Message(f"{self.prefix}.{subject}", data, msg_id, value=value))

    def _admit(self, msg_id: str | None) -> bool:
        """False for a message id seen recently (a duplicate); remembers the id otherwise.
        Called with the lock held."""
        if msg_id is None:
            return True
        if msg_id in self._recent_set:
            return False
        if len(self._recent_ids) == self._recent_ids.maxlen:
            self._recent_set.discard(self._recent_ids[0])
        self._recent_ids.append(msg_id)
        self._recent_set.add(msg_id)
        return True

    def _settled(self, message: _Message) -> None:
        """A message is done with (acknowledged, or dead-lettered): the journaled bus forgets
        its row here."""

    async def fetch(self, batch: int, *, timeout: float) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while True:
            taken = self._take(batch)
            if taken or time.monotonic() >= deadline:
                return [self._delivery(message) for message in taken]
            await asyncio.sleep(_POLL_SECONDS)

    def _take(self, batch: int) -> list[_Message]:
        now = time.monotonic()
        taken: list[_Message] = []
        skipped: list[_Message] = []
        with self._lock:
            while self._queue and len(taken) < batch:
                message = self._queue.popleft()
                (taken if message.not_before <= now else skipped).append(message)
            self._queue.extendleft(reversed(skipped))
            for message in taken:
                message.attempt += 1
            self._in_flight += len(taken)
        return taken

    def _delivery(self, message: _Message) -> Delivery:
        settled = False

        async def ack() -> None:
            nonlocal settled
            if not settled:
                settled = True
                with self._lock:
                    self._in_flight -= 1
                self._settled(message)

        async def retry(delay: float) -> None:
            nonlocal settled
            if not settled:
                settled = True
                message.not_before = time.monotonic() + delay
                with self._lock:
                    self._in_flight -= 1
                    self._queue.append(message)

        return Delivery(message.subject, message.data, message.attempt, message.msg_id, ack, retry, message.value)

    async def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        seq = next(self._seq)
        with self._lock:
            self._dead[seq] = DeadLetter(seq, delivery.subject, delivery.data, error, delivery.attempt, self._clock.now())
        await delivery.ack()

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            return [self._dead[k] for k in sorted(self._dead)[:limit]]

    async def remove_dead_letter(self, seq: int) -> None:
        with self._lock:
            self._dead.pop(seq, None)

    async def stats(self) -> BusStats:
        return self.snapshot()

    def snapshot(self) -> BusStats:
        with self._lock:
            return BusStats(pending=len(self._queue), in_flight=self._in_flight, dead=len(self._dead))
