"""The CLI as an operator uses it: check rule files, replay events from a file (embedded
bus), list dead letters, backtest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.safety.pipeline.conftest import RULES, TEST_ACTOR
from trustdesk.cli.main import app
from trustdesk.core import migrate
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.review.service import ensure_queues

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    db = Database.from_url(url)
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=SystemClock())
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "test.rules").write_text(RULES)
    monkeypatch.setenv("TRUSTDESK_DATABASE_URL", url)
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRUSTDESK_BUS", "in-process")
    return db


def test_rules_check_names_each_problem_with_its_line(tmp_path: Path) -> None:
    good = tmp_path / "good.rules"
    good.write_text(RULES)
    result = runner.invoke(app, ["rules", "check", str(good)])
    assert result.exit_code == 0 and "ok test/drug_offer@v5" in result.output
    bad = tmp_path / "bad.rules"
    bad.write_text(RULES.replace("contains_any(event.text, drugs)", "contains_any(event.txt, drugs)"))
    result = runner.invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1 and "bad.rules:14:" in result.output and "no field 'txt'" in result.output


def test_replay_handles_a_file_once_and_reports_bad_lines(env: Database, tmp_path: Path) -> None:
    at = datetime.now(UTC).isoformat()
    lines = [
        json.dumps({"id": f"e{i}", "kind": "account_created", "occurred_at": at, "actor": f"u{i}", "username": f"user{i}"})
        for i in range(30)
    ]
    lines.insert(5, '{"id": "broken", "kind": "account_created"}')
    lines.insert(9, "this is not json")
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(lines) + "\n")
    first = runner.invoke(app, ["pipeline", "replay", str(file)])
    assert first.exit_code == 1 and "30 events submitted, 2 refused" in first.output
    assert "line 6" in first.output and "line 10" in first.output
    again = runner.invoke(app, ["pipeline", "replay", str(file)])
    assert again.exit_code == 1
    with env.transaction() as session:
        assert session.scalar(select(func.count()).select_from(HandledEvent)) == 30


def test_worker_refuses_the_in_process_bus(env: Database) -> None:
    result = runner.invoke(app, ["pipeline", "worker"])
    assert result.exit_code == 2 and "TRUSTDESK_BUS=nats" in result.output


def test_backtest_prints_hits(env: Database, tmp_path: Path) -> None:
    at = datetime.now(UTC).isoformat()
    file = tmp_path / "events.jsonl"
    file.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"m{i}",
                    "kind": "message",
                    "occurred_at": at,
                    "actor": "u1",
                    "message": f"m{i}",
                    "chat": "c1",
                    "chat_kind": "group",
                    "text": "mdma" if i % 2 else "hello",
                }
            )
            + "\n"
            for i in range(6)
        )
    )
    assert runner.invoke(app, ["pipeline", "replay", str(file)]).exit_code == 0
    result = runner.invoke(app, ["rules", "backtest", str(tmp_path / "rules" / "test.rules")])
    assert result.exit_code == 0, result.output
    assert "drug_offer" in result.output and "over 6 events" in result.output


def test_purge_blanks_old_payloads_keeps_the_records_and_a_replay_still_changes_nothing(env: Database, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    old = {
        "id": "old-1",
        "kind": "account_created",
        "occurred_at": "2020-01-01T00:00:00+00:00",
        "actor": "u1",
        "username": "someone",
    }
    events.write_text(json.dumps(old) + "\n")
    assert runner.invoke(app, ["pipeline", "replay", str(events)]).exit_code == 0
    with env.transaction() as session:
        session.get(HandledEvent, "old-1").handled_at = datetime(2020, 1, 1, tzinfo=UTC)
    refused = runner.invoke(app, ["pipeline", "purge", "--days", "0"])
    assert refused.exit_code != 0
    result = runner.invoke(app, ["pipeline", "purge", "--days", "30"])
    assert result.exit_code == 0 and "1 event payloads older than 30 days blanked" in result.output
    with env.transaction() as session:
        row = session.get(HandledEvent, "old-1")
        assert row.payload == "" and row.kind == "account_created"
    assert runner.invoke(app, ["pipeline", "replay", str(events)]).exit_code == 0
    with env.transaction() as session:
        assert session.scalar(select(func.count()).select_from(HandledEvent)) == 1
        assert session.get(HandledEvent, "old-1").payload == ""
