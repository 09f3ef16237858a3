"""The CLI against a real database of its own (not the rolled-back one): what an operator
types is what runs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.core.database import make_engine


@pytest.fixture
def run(fresh_database_url, tmp_path):
    url = fresh_database_url("cli")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), env=env, input=input)

    assert invoke("db", "upgrade").exit_code == 0
    invoke.url = url
    return invoke


def test_users_create_list_and_disable(run) -> None:
    created = run(
        "users", "create", "lena", "--email", "lena@example.org", "--role", "legal_officer", "--password", "a long enough secret"
    )
    assert created.exit_code == 0, created.output
    assert "otpauth://totp/" in created.output
    listed = run("users", "list")
    assert "lena" in listed.output and "legal_officer" in listed.output
    assert run("users", "disable", "lena", "--reason", "left").exit_code == 0
    assert "disabled" in run("users", "list").output


def test_bad_input_is_a_clear_error_with_a_non_zero_exit(run) -> None:
    result = run(
        "users", "create", "Bad Name", "--email", "x@example.org", "--role", "admin", "--password", "a long enough secret"
    )
    assert result.exit_code == 2 and "username" in result.output
    assert "Bad Name" not in run("users", "list").output
    unknown_role = run(
        "users", "create", "sam", "--email", "s@example.org", "--role", "emperor", "--password", "a long enough secret"
    )
    assert unknown_role.exit_code != 0


def test_tokens_create_and_revoke(run) -> None:
    created = run("tokens", "create", "ingest", "--scope", "events:ingest", "--days", "7")
    assert created.exit_code == 0 and "td_" in created.output
    assert run("tokens", "revoke", "1", "--reason", "rotated").exit_code == 0
    again = run("tokens", "revoke", "1", "--reason", "rotated")
    assert again.exit_code == 2 and "already revoked" in again.output


def test_audit_verify_names_the_tampered_entry(run) -> None:
    for name in ("a1", "a2", "a3"):
        run("users", "create", name, "--email", f"{name}@example.org", "--role", "auditor", "--password", "a long enough secret")
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "3 entries verified" in ok.output
    engine = make_engine(run.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'cli:someone-else' WHERE seq = 2"))
    engine.dispose()
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "entry 2" in broken.output


def test_demo_load_refuses_a_platform_that_is_not_the_demo(run, tmp_path) -> None:
    env = {
        "TRUSTDESK_DATABASE_URL": run.url,
        "TRUSTDESK_DATA_DIR": str(tmp_path),
        "TRUSTDESK_PLATFORM": "webhook",
        "TRUSTDESK_WEBHOOK_BASE_URL": "http://127.0.0.1:9",
        "TRUSTDESK_WEBHOOK_SECRET": "a-shared-secret-for-the-test",
    }
    refused = CliRunner().invoke(app, ["demo", "load"], env=env)
    assert refused.exit_code == 2 and "not webhook" in refused.output, refused.output


def test_demo_load_is_idempotent_and_prints_the_logins(run) -> None:
    first = run("demo", "load")
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "trustdesk-demo-2026" in first.output
    second = run("demo", "load")
    assert second.exit_code == 0 and "0 staff accounts created" in second.output


def test_jobs_run_once_then_status_shows_each_job_s_record(run) -> None:
    once = run("jobs", "run", "--once")
    assert once.exit_code == 0, once.output
    assert "legal.deadline_alerts (tick 1" in once.output and "0 new alert(s)" in once.output
    assert "emergency.sweep" not in once.output, "off where its interval is 0 (emergency_sweep_s in tests)"
    status = run("jobs", "status")
    assert status.exit_code == 0, status.output
    line = next(row for row in status.output.splitlines() if "legal.deadline_alerts" in row)
    assert "60 s" in line and " ok" in line
    assert "off" in next(row for row in status.output.splitlines() if "emergency.sweep" in row)
