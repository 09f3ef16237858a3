"""Decoding and validating a batch of events never holds up other requests: while one batch
is being validated (here by a validator that waits for the test to let it go), /healthz is
answered. Requests run at the same time, so the tests use a database of their own
(tests/concurrency.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.concurrency import Blocked, db, in_background, staff, wait_s  # noqa: F401
from tests.safety.pipeline.conftest import TEST_ACTOR, DemoWorld, message_event
from trustdesk.core.identity.permissions import Permission
from trustdesk.http.container import Container, PipelineSlot
from trustdesk.safety.pipeline import deadletters, ingest
from trustdesk.safety.review.service import ensure_queues


@pytest.fixture
def container(settings, db, clock, platform, rules_dir: Path, matcher) -> Container:  # type: ignore[no-untyped-def]  # noqa: F811
    container = Container(settings=settings, db=db, clock=clock, platform=platform)
    container.pipeline = PipelineSlot(rules_dir=rules_dir, hash_matcher=matcher, autostart=False)
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
    return container


@pytest.fixture
def validating(monkeypatch: pytest.MonkeyPatch) -> Iterator[Blocked]:
    blocked = Blocked(ingest.validate)
    monkeypatch.setattr(ingest, "validate", blocked)
    yield blocked
    blocked.release.set()


def test_health_is_answered_while_a_batch_is_validated(
    client: TestClient, staff, clock, world: DemoWorld, validating: Blocked
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    headers = {"Authorization": f"Bearer {staff.token(Permission.EVENTS_INGEST)}"}
    batch = {"events": [message_event(world.post("hi"), at=clock.now())]}
    submitting, submitted = in_background(lambda: client.post("/api/v1/pipeline/events", json=batch, headers=headers))
    assert validating.entered.acquire(timeout=wait_s())
    checking, health = in_background(lambda: client.get("/healthz"))
    checking.join(wait_s())  # before the fix the batch was validated on the event loop: /healthz waited for it
    assert validating.left == 0 and health and health[0].status_code == 200
    validating.release.set()
    submitting.join(wait_s())
    assert submitted and submitted[0].status_code == 202, submitted[0].text
    assert submitted[0].json()["accepted"] == 1


def test_health_is_answered_while_a_replay_reads_its_dead_letter(
    client: TestClient, db, staff, clock, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with db.transaction() as session:
        dead = deadletters.add(
            session, clock=clock, subject="trustdesk.events.message", data=b'{"id": "m1"}', error="boom", attempts=5
        )
    reading = Blocked(deadletters.get)
    monkeypatch.setattr(deadletters, "get", reading)
    headers = {"Authorization": f"Bearer {staff.token(Permission.RULES_MANAGE)}"}
    replaying, replayed = in_background(lambda: client.post(f"/api/v1/pipeline/dead-letters/{dead.id}/replay", headers=headers))
    assert reading.entered.acquire(timeout=wait_s())
    checking, health = in_background(lambda: client.get("/healthz"))
    checking.join(wait_s())  # before the fix the replay read the database on the event loop: /healthz waited for it
    assert reading.left == 0 and health and health[0].status_code == 200
    reading.release.set()
    replaying.join(wait_s())
    assert replayed and replayed[0].status_code == 200, replayed[0].text
    assert replayed[0].json()["id"] == dead.id and replayed[0].json()["replayed_at"]
