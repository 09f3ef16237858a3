"""Contract tests every bus adapter passes: the in-process one always, NATS JetStream against
the real nats-server (each test on its own prefix, whose streams are deleted after)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from tests.waiting import patience
from trustdesk.core.bus import Bus, InProcessBus

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _fetch_all(bus: Bus, n: int, *, timeout: float = 30.0) -> list:
    """Up to `n` deliveries, returned as soon as there are `n`; `timeout` (times the suite's
    patience) only bounds a wait for deliveries that never come."""
    got: list = []
    deadline = asyncio.get_running_loop().time() + patience(timeout)
    while len(got) < n and asyncio.get_running_loop().time() < deadline:
        got += await bus.fetch(n - len(got), timeout=0.5)
    return got


class BusContract:
    make: Callable[[], Bus]

    @pytest.fixture
    async def bus(self) -> AsyncIterator[Bus]:
        bus = self.make()
        await bus.connect()
        yield bus
        await self.cleanup(bus)
        await bus.close()

    async def cleanup(self, bus: Bus) -> None:
        return None

    async def test_publish_fetch_ack(self, bus: Bus) -> None:
        await bus.publish_many([("events.message", f"m{i}".encode(), f"id{i}") for i in range(5)])
        got = await _fetch_all(bus, 5)
        assert sorted(d.data for d in got) == [f"m{i}".encode() for i in range(5)]
        assert all(d.attempt == 1 and d.subject == f"{bus.prefix}.events.message" for d in got)
        for d in got:
            await d.ack()
        assert await bus.fetch(10, timeout=0.2) == []

    async def test_retry_delivers_again_with_attempt_count(self, bus: Bus) -> None:
        await bus.publish("events.message", b"x", msg_id="retry-me")
        (first,) = await _fetch_all(bus, 1)
        await first.retry()
        (second,) = await _fetch_all(bus, 1)
        assert second.data == b"x" and second.attempt == 2
        await second.ack()

    async def test_duplicate_message_id_is_dropped(self, bus: Bus) -> None:
        await bus.publish("events.message", b"once", msg_id="same")
        await bus.publish("events.message", b"twice", msg_id="same")
        got = await _fetch_all(bus, 2, timeout=0.6)
        assert [d.data for d in got] == [b"once"]
        await got[0].ack()

    async def test_dead_letter_is_kept_until_removed(self, bus: Bus) -> None:
        await bus.publish("events.message", b"poison", msg_id="p1")
        (d,) = await _fetch_all(bus, 1)
        await bus.dead_letter(d, error="it broke")
        (dead,) = await bus.dead_letters()
        assert (dead.data, dead.error, dead.attempts) == (b"poison", "it broke", 1)
        assert (await bus.stats()).dead == 1
        await bus.remove_dead_letter(dead.seq)
        assert await bus.dead_letters() == []
        assert await bus.fetch(1, timeout=0.2) == []


class TestInProcessBus(BusContract):
    make = staticmethod(lambda: InProcessBus(prefix="t"))


@pytest.mark.nats
class TestNatsBus(BusContract):
    @staticmethod
    def make() -> Bus:
        from trustdesk.core.bus.nats import NatsBus

        return NatsBus("nats://127.0.0.1:4222", prefix=f"test_{uuid.uuid4().hex[:10]}", ack_wait=2.0)

    async def cleanup(self, bus: Bus) -> None:
        await bus.destroy()  # type: ignore[attr-defined]

    async def test_unacknowledged_message_comes_back_after_ack_wait(self, bus: Bus) -> None:
        await bus.publish("events.message", b"lost", msg_id="l1")
        (taken,) = await _fetch_all(bus, 1)  # the worker 'dies' holding it
        assert taken.attempt == 1
        (again,) = await _fetch_all(bus, 1)
        assert again.data == b"lost" and again.attempt == 2
        await again.ack()

    async def test_a_message_its_consumer_says_it_is_working_on_is_not_handed_out_again(self, bus: Bus) -> None:
        await bus.publish("events.message", b"slow", msg_id="w1")
        (taken,) = await _fetch_all(bus, 1)
        held_until = asyncio.get_running_loop().time() + 2 * bus.ack_wait  # type: ignore[operator]
        while asyncio.get_running_loop().time() < held_until:  # a batch outlasting the wait
            await taken.working()
            assert await bus.fetch(1, timeout=0.1) == [], "handed to another consumer while still held"
        await taken.ack()
