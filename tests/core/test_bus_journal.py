"""The embedded bus's journal: what a publisher was told is accepted survives the process.
The bus contract again, then a crash simulated by dropping the bus without a clean stop and
opening a new one on the same file (the end-to-end SIGKILL test is tests/web/test_durability.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.core.test_bus import BusContract, _fetch_all
from trustdesk.core.bus import Journal, JournaledBus, build_bus
from trustdesk.core.settings import load_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _journal_bus(path: Path, prefix: str = "t") -> JournaledBus:
    return JournaledBus(Journal(path), prefix=prefix)


class TestJournaledBus(BusContract):
    make = staticmethod(lambda: _journal_bus(Path(tempfile.mkdtemp()) / "journal.db"))


async def test_accepted_messages_survive_a_crash_in_order_and_settled_ones_do_not(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    bus = _journal_bus(path)
    await bus.publish_many([("events.message", f"m{i}".encode(), f"id{i}") for i in range(6)])
    first = await _fetch_all(bus, 2)
    for delivery in first:
        await delivery.ack()
    taken = await _fetch_all(bus, 1)  # a fetch forgets what was acknowledged before it; m2 is never acknowledged
    assert [d.data for d in first + taken] == [b"m0", b"m1", b"m2"]
    # the process dies here: no close(), no acks for m2..m5

    again = _journal_bus(path)
    assert await again.fetch(10, timeout=0) == []  # recovery is explicit: only the worker's process does it
    assert again.recover() == 4
    back = await _fetch_all(again, 4)
    assert [d.data for d in back] == [b"m2", b"m3", b"m4", b"m5"]
    assert [d.msg_id for d in back] == ["id2", "id3", "id4", "id5"]
    for delivery in back:
        await delivery.ack()
    await again.close()
    assert Journal(path).count("t") == 0


async def test_a_duplicate_id_is_journaled_once_and_prefixes_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    bus, other = _journal_bus(path, "a"), _journal_bus(path, "b")
    await bus.publish("events.message", b"x", msg_id="same")
    await bus.publish("events.message", b"x", msg_id="same")
    await other.publish("events.message", b"y", msg_id="same")
    assert Journal(path).count("a") == 1 and Journal(path).count("b") == 1
    assert [d.data for d in await _fetch_all(bus, 1)] == [b"x"]


async def test_a_dead_letter_is_settled(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    bus = _journal_bus(path)
    await bus.publish("events.message", b"poison")
    (delivery,) = await _fetch_all(bus, 1)
    await bus.dead_letter(delivery, error="it broke")
    await bus.close()
    assert Journal(path).count("t") == 0


def test_the_embedded_setting_builds_the_journaled_bus(tmp_path: Path) -> None:
    bus = build_bus(load_settings(data_dir=tmp_path), prefix="p")
    assert isinstance(bus, JournaledBus) and bus.journal.path == tmp_path / "bus-journal.db"
