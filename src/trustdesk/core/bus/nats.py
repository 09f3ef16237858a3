"""The NATS JetStream bus: a durable work-queue stream of events and one shared pull
consumer, so any number of worker processes on any number of hosts split the work, and a
message a worker took but never acknowledged (it died) is delivered again after `ack_wait`.

Streams are named after the prefix: `<PREFIX>_EVENTS` holds `<prefix>.events.>` (work-queue
retention: a message is gone once acknowledged) and `<PREFIX>_DEAD` holds `<prefix>.dead.>`
(kept until a person removes or replays it). Publishes carry `Nats-Msg-Id`, so the server
drops a duplicate published within its window."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
from nats.js.errors import NotFoundError

from trustdesk.core.bus.port import DEFAULT_PREFIX, Bus, BusStats, DeadLetter, Delivery
from trustdesk.core.errors import Unavailable

CONSUMER = "workers"
_PUBLISH_WINDOW = 2000  # publishes in flight before waiting for their acks


def stream_names(prefix: str) -> tuple[str, str]:
    base = prefix.upper().replace(".", "_").replace("-", "_")
    return f"{base}_EVENTS", f"{base}_DEAD"


class NatsBus(Bus):
    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, ack_wait: float = 30.0, max_ack_pending: int = 20_000) -> None:
        self.url, self.prefix, self.ack_wait, self.max_ack_pending = url, prefix, ack_wait, max_ack_pending
        self.events_stream, self.dead_stream = stream_names(prefix)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise Unavailable("The NATS bus is not connected; call connect() first.")
        return self._js

    async def connect(self) -> None:
        try:
            self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=5, allow_reconnect=True)
        except Exception as exc:  # nats raises several unrelated types for 'cannot connect'
            raise Unavailable(f"Cannot reach NATS at {self.url}: {exc}. Is nats-server running with JetStream (-js)?") from exc
        self._js = self._nc.jetstream()
        await self._ensure_streams()

    async def _ensure_streams(self) -> None:
        wanted = {
            self.events_stream: StreamConfig(
                name=self.events_stream,
                subjects=[f"{self.prefix}.events.>"],
                retention=RetentionPolicy.WORK_QUEUE,
                duplicate_window=120,
            ),
            self.dead_stream: StreamConfig(
                name=self.dead_stream, subjects=[f"{self.prefix}.dead.>"], retention=RetentionPolicy.LIMITS
            ),
        }
        for name, config in wanted.items():
            try:
                await self.js.stream_info(name)
            except NotFoundError:
                await self.js.add_stream(config)

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            config = ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait, max_ack_pending=self.max_ack_pending, max_deliver=-1
            )
            self._sub = await self.js.pull_subscribe(
                f"{self.prefix}.events.>", durable=CONSUMER, stream=self.events_stream, config=config
            )
        return self._sub

    async def close(self) -> None:
        if self._nc is not None:
            # close, not drain: draining waits for the pull subscription's open requests
            # (up to 30 s), and anything taken but not acknowledged is redelivered anyway
            await self._nc.close()
        self._nc = self._js = self._sub = None

    async def publish(self, subject: str, data: bytes, *, msg_id: str | None = None) -> None:
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        await self.js.publish(f"{self.prefix}.{subject}", data, stream=self.events_stream, headers=headers)

    async def publish_many(
        self, items: Sequence[tuple[str, bytes, str | None]], *, values: Sequence[object] | None = None
    ) -> None:
        """Pipelined: up to a window of publishes in flight, then wait for their acks, so a
        batch costs round trips per window rather than per message."""
        for start in range(0, len(items), _PUBLISH_WINDOW):
            futures = [
                await self.js.publish_async(
                    f"{self.prefix}.{s}", d, stream=self.events_stream, headers={"Nats-Msg-Id": m} if m else None
                )
                for s, d, m in items[start : start + _PUBLISH_WINDOW]
            ]
            await asyncio.gather(*futures)

    async def fetch(self, batch: int, *, timeout: float) -> list[Delivery]:
        sub = await self._subscription()
        try:
            messages = await sub.fetch(batch, timeout=timeout)
        except (TimeoutError, NatsTimeout):
            return []
        return [self._delivery(message) for message in messages]

    def _delivery(self, message: Msg) -> Delivery:
        headers = message.headers or {}

        async def retry(delay: float) -> None:
            await message.nak(delay=delay or None)

        return Delivery(
            message.subject,
            message.data,
            message.metadata.num_delivered,
            headers.get("Nats-Msg-Id"),
            message.ack,
            retry,
            _working=message.in_progress,
        )

    async def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        relative = delivery.subject.removeprefix(f"{self.prefix}.")
        headers = {
            "Trustdesk-Error": error[:2000].replace("\n", " "),
            "Trustdesk-Attempts": str(delivery.attempt),
            "Trustdesk-Subject": relative,
        }
        await self.js.publish(f"{self.prefix}.dead.{relative}", delivery.data, stream=self.dead_stream, headers=headers)
        await delivery.ack()

    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        info = await self.js.stream_info(self.dead_stream)
        found: list[DeadLetter] = []
        seq = info.state.first_seq
        while seq and seq <= info.state.last_seq and len(found) < limit:
            try:
                raw = await self.js.get_msg(self.dead_stream, seq)
            except NotFoundError:
                seq += 1
                continue
            headers = raw.headers or {}
            at = raw.time if isinstance(raw.time, datetime) else datetime.now(UTC)
            found.append(
                DeadLetter(
                    seq,
                    headers.get("Trustdesk-Subject", raw.subject or ""),
                    raw.data or b"",
                    headers.get("Trustdesk-Error", ""),
                    int(headers.get("Trustdesk-Attempts", "0")),
                    at,
                )
            )
            seq += 1
        return found

    async def remove_dead_letter(self, seq: int) -> None:
        await self.js.delete_msg(self.dead_stream, seq)

    async def stats(self) -> BusStats:
        info = await self.js.consumer_info(self.events_stream, CONSUMER) if self._sub else None
        dead = await self.js.stream_info(self.dead_stream)
        if info is None:
            events = await self.js.stream_info(self.events_stream)
            return BusStats(pending=events.state.messages, in_flight=0, dead=dead.state.messages)
        return BusStats(pending=info.num_pending, in_flight=info.num_ack_pending, dead=dead.state.messages)

    async def destroy(self) -> None:
        """Delete both streams: for tests and benchmarks that made their own prefix."""
        for name in (self.events_stream, self.dead_stream):
            try:
                await self.js.delete_stream(name)
            except NotFoundError:
                pass
