"""A worker on the real nats-server keeps the batch it is handling: one that outlasts the
bus's acknowledgement wait (a loaded machine, a slow database) is not handed to another
worker meanwhile, which would handle the same events at the same time."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from trustdesk.core.bus.nats import NatsBus
from trustdesk.safety.pipeline.handling import BatchResult, Received
from trustdesk.safety.pipeline.worker import Worker

pytestmark = [pytest.mark.nats, pytest.mark.anyio]
ACK_WAIT = 1.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def bus() -> AsyncIterator[NatsBus]:
    bus = NatsBus("nats://127.0.0.1:4222", prefix=f"test_{uuid.uuid4().hex[:10]}", ack_wait=ACK_WAIT)
    await bus.connect()
    yield bus
    await bus.destroy()
    await bus.close()


class SlowHandler:
    """Takes three acknowledgement waits over each batch, in the worker's thread."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, batch: Sequence[Received]) -> BatchResult:
        self.seen += [r.event.id for r in batch]
        time.sleep(3 * ACK_WAIT)
        return BatchResult()


async def test_a_batch_that_outlasts_the_ack_wait_stays_with_its_worker(bus: NatsBus) -> None:
    event = {
        "id": "ev-1",
        "kind": "message",
        "occurred_at": "2026-03-28T23:00:00+00:00",
        "actor": "u1",
        "message": "m1",
        "chat": "c1",
        "chat_kind": "group",
        "text": "hello",
        "media": [],
    }
    await bus.publish("events.message", json.dumps(event).encode(), msg_id="ev-1")
    handler = SlowHandler()
    worker = Worker(bus, handler, batch=10)  # type: ignore[arg-type]
    assert await worker.run_once(timeout=30) == 1
    assert await bus.fetch(1, timeout=0.5) == [], "handed out again while the worker held it"
    assert handler.seen == ["ev-1"]
