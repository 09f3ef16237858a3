"""End to end on the real nats-server, with real worker processes (`trustdesk pipeline
worker`) on a committed database: a worker killed mid-stream loses nothing and nothing
happens twice; a message on the demo platform that matches a rule is removed or opens a
case, as the rule says. Each test has its own subject prefix, deleted afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from tests.safety.pipeline.conftest import RULES, TEST_ACTOR, message_event
from tests.waiting import patience
from trustdesk.core import migrate
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.bus.nats import NatsBus
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind, MessageState
from trustdesk.safety.pipeline.events import EVENT
from trustdesk.safety.pipeline.ingest import submit
from trustdesk.safety.pipeline.models import EntityLabel, HandledEvent
from trustdesk.safety.review.models import Case
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.signals.hashing import hash_media

pytestmark = pytest.mark.nats
NATS_URL = "nats://127.0.0.1:4222"


@dataclass
class Setup:
    db: Database
    data_dir: Path
    prefix: str
    env: dict[str, str]
    platform: DemoPlatform
    hash_list: Path
    logs: list[Path]

    def worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = self.data_dir / f"{name}.log"
        self.logs.append(log)
        command = [
            sys.executable,
            "-m",
            "trustdesk",
            "pipeline",
            "worker",
            "--name",
            name,
            "--batch",
            "50",
            "--ack-wait",
            "2",
            "--hash-list",
            str(self.hash_list),
            *extra,
        ]
        return subprocess.Popen(command, env=self.env, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def count(self, model: type, *where: object) -> int:
        with self.db.transaction() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def wait_for(self, condition: Callable[[], bool], *, seconds: float = 300) -> None:
        """Until `condition` holds. Worker processes start and handle within the deadline even on
        a loaded machine (one run of the demo test took a minute under stress-ng --cpu 2, and
        one timed out at 120 s), so that it is only reached when something is wrong."""
        deadline = time.monotonic() + patience(seconds)
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    "timed out; worker logs:\n"
                    + "\n".join(p.read_text(errors="replace")[-2000:] for p in self.logs if p.exists())
                )
            time.sleep(0.1)


@pytest.fixture
def setup(fresh_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[Setup]:
    url = fresh_database_url("pipeline_e2e")
    migrate.upgrade(url)
    db = Database.from_url(url)
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=SystemClock())
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "test.rules").write_text(RULES, encoding="utf-8")
    _, poster = imagery.poster_original()
    hash_list = tmp_path / "hashes.jsonl"
    hash_list.write_text(json.dumps({"bank": "csam_verified", "entry_id": "e1", "pdq": hash_media(poster).pdq}) + "\n")
    prefix = f"e2e_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "TRUSTDESK_DATABASE_URL": url,
        "TRUSTDESK_DATA_DIR": str(tmp_path),
        "TRUSTDESK_BUS": "nats",
        "TRUSTDESK_NATS_URL": NATS_URL,
        "TRUSTDESK_PIPELINE_PREFIX": prefix,
    }
    platform = DemoPlatform.from_url(f"sqlite:///{tmp_path / 'demo-platform.db'}")
    yield Setup(db, tmp_path, prefix, env, platform, hash_list, [])
    asyncio.run(_destroy(prefix))
    db.dispose()


async def _destroy(prefix: str) -> None:
    bus = NatsBus(NATS_URL, prefix=prefix)
    await bus.connect()
    await bus.destroy()
    await bus.close()


async def _publish(prefix: str, events: list[dict]) -> None:
    async with NatsBus(NATS_URL, prefix=prefix) as bus:
        await submit(bus, [EVENT.validate_python(e) for e in events])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_killed_worker_loses_nothing_and_repeats_nothing(setup: Setup) -> None:
    alice = setup.platform.posting.create_account(username="alice_e2e", display_name="Alice")
    bob = setup.platform.posting.create_account(username="bob_e2e", display_name="Bob")
    chat = setup.platform.posting.create_chat(kind=ChatKind.GROUP, title="Busy", member_ids=[alice.id, bob.id])
    total, events = 3000, []
    now = datetime.now(UTC)
    for i in range(total):
        text = "pills for sale, cheap mdma" if i % 10 == 0 else f"ordinary message {i}"
        sender = alice.id if i % 2 else bob.id
        events.append(message_event(setup.platform.posting.post_message(chat_id=chat.id, sender_id=sender, text=text), at=now))
    asyncio.run(_publish(setup.prefix, events))
    first = setup.worker("first")
    try:
        setup.wait_for(lambda: setup.count(HandledEvent) > 0)
        first.send_signal(signal.SIGKILL)  # no clean shutdown: whatever it held is unacknowledged
        first.wait(timeout=10)
        handled_by_first = setup.count(HandledEvent)
        assert handled_by_first < total, "the first worker finished before it could be killed"
        second, third = setup.worker("second"), setup.worker("third")
        try:
            setup.wait_for(lambda: setup.count(HandledEvent) == total)
        finally:
            _stop(second)
            _stop(third)
    finally:
        if first.poll() is None:
            first.kill()
    drug_messages = total // 10
    assert setup.count(Case, Case.queue == "illegal_goods") == drug_messages
    assert setup.count(EntityLabel, EntityLabel.label == "drug_offer") == drug_messages
    assert setup.count(AuditEntry, AuditEntry.action == "pipeline.effect.open_case") == drug_messages
    assert setup.count(HandledEvent, HandledEvent.worker.in_(["second", "third"])) == total - handled_by_first


def test_demo_message_is_removed_or_sent_to_review_as_the_rules_say(setup: Setup) -> None:
    alice = setup.platform.posting.create_account(username="alice_demo2", display_name="Alice")
    bob = setup.platform.posting.create_account(username="bob_demo2", display_name="Bob")
    chat = setup.platform.posting.create_chat(kind=ChatKind.GROUP, title="Neighbours", member_ids=[alice.id, bob.id])
    known = setup.platform.posting.post_message(chat_id=chat.id, sender_id=bob.id, text="look", media=[imagery.poster_original()])
    offer = setup.platform.posting.post_message(chat_id=chat.id, sender_id=bob.id, text="c0caine delivered tonight")
    _, poster = imagery.poster_original()
    now = datetime.now(UTC)
    events = [
        message_event(known, at=now, pdq=hash_media(poster).pdq),
        message_event(offer, at=now),
        {"id": "bad-1", "kind": "message", "actor": "u1"},
    ]
    # streaming ingest: the platform publishes to the JetStream subject itself, with no HTTP
    # and none of Trustdesk's code, each event twice (a retry after a lost ack), and one bad one
    asyncio.run(_publish_as_a_platform(setup.prefix, [*events, *events]))
    worker = setup.worker("demo")
    try:
        setup.wait_for(lambda: setup.count(HandledEvent) == 2)
    finally:
        _stop(worker)
    assert setup.platform.get_message(known.id).state is MessageState.REMOVED
    assert setup.platform.get_message(offer.id).state is MessageState.VISIBLE
    with setup.db.transaction() as session:
        cases = {c.subject_id: c.queue for c in session.scalars(select(Case))}
    assert cases == {known.id: "child_safety", offer.id: "illegal_goods"}
    assert asyncio.run(_dead(setup.prefix)) == ["bad-1"]


async def _publish_as_a_platform(prefix: str, events: list[dict]) -> None:
    """What docs/pipeline.md ("Streaming ingest") tells a platform to do, with plain nats-py:
    publish each event's JSON to `<prefix>.events.<kind>` with its id as `Nats-Msg-Id`."""
    async with NatsBus(NATS_URL, prefix=prefix):  # the streams exist once Trustdesk has started
        pass
    connection = await nats.connect(NATS_URL)
    try:
        stream = connection.jetstream()
        for event in events:
            await stream.publish(
                f"{prefix}.events.{event['kind']}", json.dumps(event).encode(), headers={"Nats-Msg-Id": event["id"]}
            )
    finally:
        await connection.close()


async def _dead(prefix: str) -> list[str]:
    async with NatsBus(NATS_URL, prefix=prefix) as bus:
        return [json.loads(d.data)["id"] for d in await bus.dead_letters()]
