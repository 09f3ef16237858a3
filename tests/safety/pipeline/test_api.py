"""The pipeline over HTTP: submit, see the verdict, dead letters, rules, backtests, the
console page and /metrics, in the embedded mode (the in-process bus)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.safety.pipeline.conftest import TEST_ACTOR, DemoWorld, message_event
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.http.container import Container, PipelineSlot
from trustdesk.safety.pipeline.runtime import runtime_for
from trustdesk.safety.review.service import ensure_queues


@pytest.fixture
def container(settings, db, clock, platform, rules_dir: Path, matcher) -> Container:
    container = Container(settings=settings, db=db, clock=clock, platform=platform)
    container.pipeline = PipelineSlot(rules_dir=rules_dir, hash_matcher=matcher, autostart=False)
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
    return container


def _drain(container: Container) -> None:
    asyncio.run(runtime_for(container).worker.drain(idle_timeout=0))


def _headers(staff, *scopes: Permission) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff.token(*scopes)}"}


def test_a_submitted_message_gets_its_verdict_and_case(client: TestClient, container, staff, clock, world: DemoWorld) -> None:
    message = world.post("fresh mdma, dm me")
    event = message_event(message, at=clock.now())
    ingest = _headers(staff, Permission.EVENTS_INGEST)
    response = client.post(
        "/api/v1/pipeline/events", json={"events": [event, message_event(world.post("hi"), at=clock.now())]}, headers=ingest
    )
    assert response.status_code == 202 and response.json()["accepted"] == 2
    reader = _headers(staff, Permission.SAFETY_READ)
    assert client.get(f"/api/v1/pipeline/events/{event['id']}", headers=reader).json()["handled"] is False
    _drain(container)
    status = client.get(f"/api/v1/pipeline/events/{event['id']}", headers=reader).json()
    assert status["handled"] and status["verdicts"] == ["drugs"]
    (hit,) = status["hits"]
    assert hit["rule"] == "drug_offer" and hit["rule_version"] == 5 and hit["effects"][0]["queue"] == "illegal_goods"
    metrics = client.get("/metrics").text
    assert 'trustdesk_rule_hits_total{mode="live",rule="drug_offer"} 1.0' in metrics
    assert "trustdesk_pipeline_events_handled_total 2.0" in metrics


def test_a_batch_with_a_bad_event_is_refused_whole(client: TestClient, container, staff, clock, world: DemoWorld) -> None:
    good = message_event(world.post("hello"), at=clock.now())
    bad = {**good, "id": "b1", "occurred_at": "2026-03-28T10:00:00", "chat_kind": "planet"}
    response = client.post(
        "/api/v1/pipeline/events", json={"events": [good, bad]}, headers=_headers(staff, Permission.EVENTS_INGEST)
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/invalid-input") and "nothing was accepted" in problem["detail"]
    assert problem["events"][0]["index"] == 1 and "chat_kind" in problem["events"][0]["detail"]
    assert runtime_for(container).bus.snapshot().pending == 0


def test_ingest_needs_the_ingest_scope(client: TestClient, staff, clock, world: DemoWorld) -> None:
    event = message_event(world.post("x"), at=clock.now())
    assert client.post("/api/v1/pipeline/events", json=event).status_code == 401
    assert client.post("/api/v1/pipeline/events", json=event, headers=_headers(staff, Permission.SAFETY_READ)).status_code == 403


def test_rules_in_force_show_refused_lines(client: TestClient, staff, rules_dir: Path) -> None:
    (rules_dir / "broken.rules").write_text(
        'ruleset "b" version 1\nrule r {\n version 1\n when event.nope == 1\n then verdict("x")\n}\n'
    )
    runtime_body = client.get("/api/v1/rules", headers=_headers(staff, Permission.SAFETY_READ)).json()
    assert "test/drug_offer@v5" in [r["ref"] for r in runtime_body["rules"]]
    assert any("broken.rules:4:" in p for p in runtime_body["problems"])


def test_backtest_over_http_refuses_a_bad_file(client: TestClient, staff) -> None:
    manage = _headers(staff, Permission.RULES_MANAGE)
    bad = client.post(
        "/api/v1/rules/backtest",
        json={"source": 'ruleset "x" version 1\nrule r {\n version 1\n when event.kind == 3 and nope()\n then verdict("x")\n}\n'},
        headers=manage,
    )
    assert bad.status_code == 422 and "<submitted>:4:" in bad.json()["detail"]
    good = client.post(
        "/api/v1/rules/backtest",
        json={"source": 'ruleset "x" version 1\nrule r {\n version 1\n when true\n then verdict("x")\n}\n'},
        headers=manage,
    )
    assert good.status_code == 200 and good.json()["results"]["r"]["hits"] == 0


def test_console_page_lists_rules_dead_letters_and_replays(client: TestClient, container, staff, clock, world: DemoWorld) -> None:
    runtime_for(container).bus.publish_now("events.message", b'{"id": "broken-1", "kind": "message"}')
    _drain(container)
    admin = staff.create(Role.ADMIN)
    csrf = staff.sign_in(client, admin)
    page = client.get("/console/safety/pipeline")
    assert page.status_code == 200
    assert "test/drug_offer@v5" in page.text and "shadow" in page.text and "broken-1" in page.text
    dead_id = client.get("/api/v1/pipeline/dead-letters", headers=_headers(staff, Permission.SAFETY_READ)).json()[0]["id"]
    replayed = client.post(f"/console/safety/pipeline/dead-letters/{dead_id}/replay", data={"csrf_token": csrf})
    assert replayed.status_code == 200 and f"Dead letter {dead_id} sent back" in replayed.text
    backtest = client.post("/console/safety/pipeline/backtest", data={"csrf_token": csrf, "path": "/etc/passwd"})
    assert "not one of the rule files" in backtest.text


def test_console_page_needs_safety_read(client: TestClient, staff) -> None:
    auditor_only = staff.create(Role.ADMIN)
    staff.sign_in(client, auditor_only)
    assert client.get("/console/safety/pipeline").status_code == 200
    client.cookies.clear()
    assert client.get("/console/safety/pipeline", follow_redirects=False).status_code in (303, 401)


def test_ingest_answers_429_with_retry_after_while_the_backlog_is_over_its_limit(
    client: TestClient, container, staff, clock, world: DemoWorld
) -> None:
    """A platform is told to slow down rather than left to time out: over the backlog limit
    nothing is published, and once the workers have caught up ingest takes events again."""
    runtime = runtime_for(container)
    runtime.backpressure.limit, runtime.backpressure.every = 3, 0.0  # read the bus on every request
    ingest = _headers(staff, Permission.EVENTS_INGEST)
    batch = {"events": [message_event(world.post(f"hello {i}"), at=clock.now()) for i in range(3)]}
    assert client.post("/api/v1/pipeline/events", json=batch, headers=ingest).status_code == 202
    late = message_event(world.post("one too many"), at=clock.now())
    refused = client.post("/api/v1/pipeline/events", json=late, headers=ingest)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(container.settings.pipeline_retry_after_s)
    body = refused.json()
    assert body["type"].endswith("/overloaded") and body["waiting"] == 3 and "nothing was accepted" in body["detail"]
    assert asyncio.run(runtime.bus.stats()).pending == 3  # the refused event was not published
    _drain(container)
    assert client.post("/api/v1/pipeline/events", json=late, headers=ingest).status_code == 202


def test_between_two_readings_of_the_bus_what_was_accepted_counts(
    client: TestClient, container, staff, clock, world: DemoWorld
) -> None:
    runtime = runtime_for(container)
    runtime.backpressure.limit, runtime.backpressure.every = 2, 3600.0  # the bus is read once, then not again
    ingest = _headers(staff, Permission.EVENTS_INGEST)
    for i in range(2):
        event = message_event(world.post(f"burst {i}"), at=clock.now())
        assert client.post("/api/v1/pipeline/events", json=event, headers=ingest).status_code == 202
    event = message_event(world.post("burst 2"), at=clock.now())
    assert client.post("/api/v1/pipeline/events", json=event, headers=ingest).status_code == 429
