"""The worker loop: fetch a batch from the bus, handle it, acknowledge it.

Failures are sorted so that none stops the pipeline: an event that does not parse goes
straight to the dead letters with the validation error (retrying will not fix it); a batch
that fails as a whole is split and its events handled one by one, so one bad event cannot
hold back the others; an event that fails on its own is retried with a growing delay and
dead-lettered after `max_attempts`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from trustdesk.core.bus import Bus, Delivery
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.pipeline import deadletters
from trustdesk.safety.pipeline.events import EVENT_MODELS, Event, parse_event
from trustdesk.safety.pipeline.handling import BatchResult, Handler, Received

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    batches: int = 0
    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    dead: int = 0
    hits: int = 0


@dataclass
class Worker:
    bus: Bus
    handler: Handler
    batch: int = 500
    max_attempts: int = 5
    retry_delay: float = 1.0
    threaded: bool = True
    stats: WorkerStats = field(default_factory=WorkerStats)
    on_batch: Callable[[BatchResult], None] | None = None

    async def run(self, stop: asyncio.Event, *, fetch_timeout: float = 1.0) -> None:
        while not stop.is_set():
            await self.run_once(timeout=fetch_timeout)

    async def run_once(self, *, timeout: float = 0.0) -> int:
        """Handle one batch (if any arrives within `timeout`); returns how many were fetched."""
        deliveries = await self.bus.fetch(self.batch, timeout=timeout)
        if deliveries:
            await self.process(deliveries)
        return len(deliveries)

    async def drain(self, *, idle_timeout: float = 0.05) -> None:
        """Handle until the bus has nothing ready (tests, replays, the embedded mode)."""
        while await self.run_once(timeout=idle_timeout):
            pass

    async def process(self, deliveries: list[Delivery]) -> None:
        holding = asyncio.create_task(self._keep_held(deliveries))
        try:
            await self._process(deliveries)
        finally:
            holding.cancel()

    async def _keep_held(self, deliveries: list[Delivery]) -> None:
        """While a batch is handled, tell the bus every third of its acknowledgement wait that
        this worker still holds it. On a loaded machine or a slow database a batch can outlast
        the wait; the bus would then hand it to another worker, both would handle the same
        events at once, one commit would fail on the other's rows and its batch be redone
        event by event, slower still, so that more batches outlast the wait."""
        if not self.bus.ack_wait:
            return
        while True:
            await asyncio.sleep(self.bus.ack_wait / 3)
            try:
                for delivery in deliveries:
                    await delivery.working()
            except Exception as exc:  # the bus is gone: the batch comes back to someone anyway
                log.warning("could not tell the bus the batch is still being handled: %s", exc)
                return

    async def _process(self, deliveries: list[Delivery]) -> None:
        good: list[tuple[Delivery, Received]] = []
        for delivery in deliveries:
            try:
                good.append((delivery, Received(_event_of(delivery), delivery.data.decode())))
            except (InvalidInput, UnicodeDecodeError) as exc:
                await self._dead(delivery, getattr(exc, "detail", str(exc)))
        if not good:
            return
        try:
            await self._handle([r for _, r in good])
        except Exception as exc:
            log.warning("batch of %d failed (%s); handling its events one by one", len(good), exc)
            for delivery, received in good:
                await self._one(delivery, received)
            return
        for delivery, _ in good:
            await delivery.ack()

    async def _handle(self, batch: list[Received]) -> None:
        result = await asyncio.to_thread(self.handler.handle, batch) if self.threaded else self.handler.handle(batch)
        self.stats.batches += 1
        self.stats.handled += len(result.handled)
        self.stats.duplicates += len(result.duplicates)
        self.stats.hits += sum(len(v.hits) for v in result.handled)
        if self.on_batch:
            self.on_batch(result)

    async def _one(self, delivery: Delivery, received: Received) -> None:
        try:
            await self._handle([received])
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if delivery.attempt >= self.max_attempts:
                await self._dead(delivery, f"failed {delivery.attempt} times; last error: {error}")
            else:
                self.stats.retried += 1
                await delivery.retry(self.retry_delay * delivery.attempt)
            return
        await delivery.ack()

    async def _dead(self, delivery: Delivery, error: str) -> None:
        self.stats.dead += 1
        log.warning("dead letter on %s: %s", delivery.subject, error)
        try:
            with self.handler.db.transaction() as session:
                deadletters.add(
                    session,
                    clock=self.handler.clock,
                    subject=delivery.subject,
                    data=delivery.data,
                    error=error,
                    attempts=delivery.attempt,
                )
        except Exception:  # the database may be what failed; the bus copy still keeps it
            log.exception("could not record the dead letter in the database")
        await self.bus.dead_letter(delivery, error=error)


def _event_of(delivery: Delivery) -> Event:
    """The event the in-process bus carried as an object (validated at ingest, immutable),
    else the bytes parsed and validated: NATS, or a replay from the dead letters."""
    if isinstance(delivery.value, EVENT_MODELS):
        return delivery.value  # type: ignore[return-value]
    return parse_event(delivery.data)
