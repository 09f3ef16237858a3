"""`trustdesk privacy` against a real database of its own (issue #21): a retention run works
before any scheduler, a rights request answers, the record prints."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.core.database import make_engine


@pytest.fixture
def run(fresh_database_url, tmp_path):  # type: ignore[no-untyped-def]
    url = fresh_database_url("privacy-cli")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    invoke.url = url  # type: ignore[attr-defined]
    return invoke


def test_retention_run_request_export_and_record(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dry = run("privacy", "retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would empty 0 row(s)" in dry.output
    done = run("privacy", "retention", "run")
    assert done.exit_code == 0 and "emptied 0 row(s)" in done.output
    engine = make_engine(run.url)
    with engine.connect() as connection:
        query = text("SELECT actor FROM audit_entries WHERE action = 'privacy.retention.run'")
        assert [row[0] for row in connection.execute(query)] == [f"cli:{getpass.getuser()}"]  # the dry run is not audited
    engine.dispose()
    out = tmp_path / "export.md"
    asked = run("privacy", "request", "access", "acct-42", "--note", "by post", "--out", str(out))
    assert asked.exit_code == 0, asked.output
    assert "access for acct-42: completed" in asked.output
    assert out.read_text().startswith("# The data Trustdesk holds about account acct-42")
    assert "acct-42" in run("privacy", "export", "1").output
    assert "0 deferred request(s) answered" in run("privacy", "retry").output
    record = run("privacy", "record")
    assert record.exit_code == 0 and "Record of processing activities" in record.output
    bad = run("privacy", "request", "erasure", " ")
    assert bad.exit_code == 2 and "account id" in bad.output
