"""`trustdesk audit checkpoint | rotate-key | verify` against a real database of its own and
real files: an operator signs checkpoints, rotates the key, and a later verify names the
tampering that the chain alone would have let through."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.core.test_audit_checkpoints import _rechain
from trustdesk.cli.main import app
from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.checkpoints import LOG_NAME
from trustdesk.core.database import make_engine


@pytest.fixture
def run(fresh_database_url, tmp_path: Path):
    url = fresh_database_url("cli_audit")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    for name in ("a1", "a2", "a3"):
        assert (
            invoke(
                "users",
                "create",
                name,
                "--email",
                f"{name}@example.org",
                "--role",
                "auditor",
                "--password",
                "a long enough secret",
            ).exit_code
            == 0
        )
    invoke.url, invoke.log = url, tmp_path / "checkpoints" / LOG_NAME
    return invoke


def _tamper(url: str, sql: str | None = None, *, rewrite_reason_of: int | None = None) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        if rewrite_reason_of is not None:
            _rechain(session, lambda rows: rows[rewrite_reason_of - 1].update(reason="nothing to see"))
        if sql:
            for statement in sql.split(";"):
                session.connection().exec_driver_sql(statement)
    engine.dispose()


def test_verify_without_a_checkpoint_says_what_it_cannot_see(run) -> None:
    result = run("audit", "verify")
    assert (
        result.exit_code == 0 and "3 entries verified" in result.output and "no signed checkpoint to hold it to" in result.output
    )


def test_a_rewritten_chain_passes_alone_and_fails_against_the_checkpoint(run, tmp_path: Path) -> None:
    signed = run("audit", "checkpoint")
    assert signed.exit_code == 0 and "signed checkpoint 3 of" in signed.output
    assert "head unchanged since checkpoint 3" in run("audit", "checkpoint").output
    assert stat.S_IMODE((tmp_path / "keys" / "audit-ed25519.key").stat().st_mode) == 0o600
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "holds all 1 signed checkpoints" in ok.output
    _tamper(run.url, rewrite_reason_of=2)
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "broken at entry 1" in broken.output and "entries 1..3 do not recompute" in broken.output
    refused = run("audit", "checkpoint")
    assert (
        refused.exit_code == 2
        and "at entry 1: entries 1..3 do not recompute" in refused.output
        and "No checkpoint was signed" in " ".join(refused.output.split())
    )


def test_an_emptied_chain_is_an_error_not_zero_entries_verified(run) -> None:
    assert run("audit", "checkpoint").exit_code == 0
    _tamper(run.url, "DELETE FROM audit_entries; DELETE FROM audit_head")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "the head row is gone and entries 1..3 are missing" in broken.output


def test_a_rotated_key_is_recorded_and_verifies(run, tmp_path: Path) -> None:
    assert run("audit", "checkpoint").exit_code == 0
    rotated = run("audit", "rotate-key", "--reason", "yearly rotation")
    assert rotated.exit_code == 0, rotated.output
    records = [json.loads(line) for line in run.log.read_text().splitlines()]
    assert [r["type"] for r in records] == ["key", "checkpoint", "key", "checkpoint"]
    assert (
        records[2]["signed_by"] == records[0]["key_id"]
        and records[3]["key_id"] == records[2]["key_id"]
        and records[3]["seq"] == 4
    )
    listed = run("audit", "verify", "--checkpoints", str(run.log.parent))
    assert (
        listed.exit_code == 0
        and "4 entries verified" in listed.output
        and f"keys {records[0]['key_id']}, {records[2]['key_id']}" in listed.output
    )


def test_a_forged_checkpoint_log_is_refused_naming_the_line(run) -> None:
    assert run("audit", "checkpoint").exit_code == 0
    lines = run.log.read_text().splitlines()
    forged = json.loads(lines[1]) | {"seq": 2}
    run.log.write_text(lines[0] + "\n" + json.dumps(forged) + "\n")
    result = run("audit", "verify")
    assert result.exit_code == 1 and "line 2: the signature does not verify" in result.output


def test_a_log_replaced_with_a_new_key_is_caught_by_the_published_first_key(run, tmp_path: Path) -> None:
    """Whoever holds the server can rewrite the chain, throw away the key and the log, and sign
    afresh; the key id published before is what gives it away."""
    assert run("audit", "checkpoint").exit_code == 0
    published = json.loads(run.log.read_text().splitlines()[0])["key_id"]
    _tamper(run.url, rewrite_reason_of=1)
    run.log.unlink()
    (tmp_path / "keys" / "audit-ed25519.key").unlink()
    assert run("audit", "checkpoint").exit_code == 0
    assert run("audit", "verify").exit_code == 0  # the new log is consistent with itself
    pinned = run("audit", "verify", "--first-key", published)
    assert pinned.exit_code == 1 and f"not {published}: it is not the log that was published" in " ".join(pinned.output.split())


def test_checkpoint_every_keeps_signing_until_stopped(run, monkeypatch: pytest.MonkeyPatch) -> None:
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:  # something happens in the meantime
            engine = make_engine(run.url)
            with Session(engine) as session, session.begin():
                record(session, actor=Actor("test", "pytest"), action="thing.change", object_type="thing")
            engine.dispose()
        if len(naps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr("trustdesk.cli.audit.time.sleep", nap)
    result = run("audit", "checkpoint", "--every", "5")
    assert naps == [5.0, 5.0, 5.0] and "signed checkpoint 3 of" in result.output and "signed checkpoint 4 of" in result.output
    assert "head unchanged since checkpoint 4" in result.output


def test_since_checkpoint_checks_only_what_came_after_it(run) -> None:
    assert run("audit", "verify", "--since-checkpoint").exit_code == 2  # nothing signed yet to start from
    assert run("audit", "checkpoint").exit_code == 0
    _tamper(run.url, "UPDATE audit_entries SET reason = 'edited' WHERE seq = 1")  # before the checkpoint
    for name in ("a4", "a5"):
        created = run(
            "users", "create", name, "--email", f"{name}@example.org", "--role", "auditor", "--password", "a long enough secret"
        )
        assert created.exit_code == 0
    after = run("audit", "verify", "--since-checkpoint", "--workers", "1")
    assert after.exit_code == 0 and "2 entries verified after checkpoint 3 of" in after.output
    whole = run("audit", "verify", "--workers", "2")
    assert whole.exit_code == 1 and "broken at entry 1" in whole.output
