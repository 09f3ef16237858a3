"""Submitting events: validate everything first (a batch with one bad event is refused
whole, naming each bad one, and nothing is published), then publish each event under its
id, so that the bus drops a resubmission it has seen recently and the handler skips one it
has already handled."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from trustdesk.core.bus import Bus
from trustdesk.core.errors import InvalidInput, Overloaded, TooLarge
from trustdesk.safety.pipeline.events import EVENT, MAX_BATCH, Event, describe


def validate(items: Sequence[Any], *, max_batch: int = MAX_BATCH) -> list[Event]:
    """Python values (a decoded JSON batch) to events, or InvalidInput listing every bad one;
    TooLarge for more than `max_batch` items (the pipeline_max_batch setting on the API)."""
    if len(items) > max_batch:
        raise TooLarge(
            f"A batch holds at most {max_batch} events (TRUSTDESK_PIPELINE_MAX_BATCH); this one has {len(items)}. Split it."
        )
    events, problems = [], []
    for position, item in enumerate(items):
        try:
            events.append(EVENT.validate_python(item))
        except ValidationError as exc:
            problems.append(
                {"index": position, "id": item.get("id") if isinstance(item, dict) else None, "detail": describe(exc)}
            )
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"{len(problems)} of {len(items)} events are not valid; nothing was accepted. First: event {first['index']}: {first['detail']}",
            events=problems,
        )
    return events


def subject(event: Event) -> str:
    return f"events.{event.kind}"


async def submit(bus: Bus, events: Sequence[Event]) -> list[str]:
    """Publish validated events; returns their ids."""
    await bus.publish_many([(subject(e), e.model_dump_json().encode(), e.id) for e in events], values=events)
    return [e.id for e in events]


class Backpressure:
    """Ingest takes on no more than the workers can work off: above `limit` events waiting
    on the bus (not handled yet, or handed out and not acknowledged) a submission is refused
    with 429 and `Retry-After`, before its body is read, so that a platform slows down
    instead of timing out while the backlog grows without bound. The bus is asked at most
    every `every` seconds (a JetStream stream-info round trip); what this process accepted
    since is added, so a burst between two readings cannot run far past the limit."""

    def __init__(
        self,
        bus: Bus,
        *,
        limit: int,
        retry_after: int,
        every: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus, self.limit, self.retry_after, self.every, self.clock = bus, limit, retry_after, every, clock
        self.waiting, self._read_at = 0, float("-inf")

    async def admit(self) -> None:
        """Return if ingest may take more on, else raise Overloaded."""
        if self.limit <= 0:
            return
        now = self.clock()
        if now - self._read_at >= self.every:
            stats = await self.bus.stats()
            self.waiting, self._read_at = stats.pending + stats.in_flight, now
        if self.waiting >= self.limit:
            raise Overloaded(
                f"{self.waiting:,} events are waiting to be handled (the limit is {self.limit:,}, "
                f"TRUSTDESK_PIPELINE_MAX_BACKLOG); nothing was accepted. Send again after {self.retry_after} s.",
                retry_after=self.retry_after,
                waiting=self.waiting,
            )

    def accepted(self, count: int) -> None:
        self.waiting += count
