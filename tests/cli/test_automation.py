"""`trustdesk automation` against a real database of its own: the versions and a promotion."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.database import Database
from trustdesk.safety.automation.models import AutomationVersion


def test_versions_and_a_promotion(fresh_database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url("cli_automation")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    db = Database.from_url(url)
    with db.transaction() as session:
        session.add(
            AutomationVersion(
                kind="rule",
                name="demo/spam",
                version="4",
                state="shadow",
                registered_at=datetime(2026, 12, 1, tzinfo=UTC),
                registered_by="system:pipeline",
            )
        )
    listed = runner.invoke(app, ["automation", "versions"], env=env)
    assert listed.exit_code == 0 and "demo/spam" in listed.output and "shadow" in listed.output
    refused = runner.invoke(app, ["automation", "promote", "1", "--note", "go"], env=env)
    assert refused.exit_code != 0 and "0 labelled shadow verdicts of the 20" in refused.output
    done = runner.invoke(app, ["automation", "promote", "1", "--note", "go", "--min-labelled", "0"], env=env)
    assert done.exit_code == 0, done.output
    assert "rule demo/spam version 4 is active" in done.output
    with db.transaction() as session:
        assert session.get(AutomationVersion, 1).state == "active"
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "automation.promote")).one()
    db.dispose()
