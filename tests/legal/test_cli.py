"""`trustdesk requests` and the demo officers, against a database of their own."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from trustdesk.cli.main import app


@pytest.fixture
def run(fresh_database_url, tmp_path):
    env = {"TRUSTDESK_DATABASE_URL": fresh_database_url("legalcli"), "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "250"}
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_demo_load_prints_officer_logins_and_the_registry_lists_them(run) -> None:
    loaded = run("demo", "load")
    assert loaded.exit_code == 0, loaded.output
    assert (
        "7 agencies" in loaded.output
        and "claire.martin@tj-paris.justice.invalid" in loaded.output
        and "/portal/login" in loaded.output
    )
    listed = run("requests", "agencies")
    assert "de-lka-bw-cyber" in listed.output and "blocked" in listed.output
    token = run("requests", "agency-token", "us-usao-demo")
    assert token.exit_code == 0 and "td_" in token.output
    assert run("requests", "list").exit_code == 0
    assert "0 new alert(s)" in run("requests", "alerts").output


def test_catalogue_and_clear_errors(run) -> None:
    assert "eu_epoc" in run("requests", "catalogue").output
    missing = run("requests", "agency-token", "no-such-agency")
    assert missing.exit_code == 2 and "No agency" in missing.output
    blocked = run("requests", "block-officer", "999", "--reason", "compromised")
    assert blocked.exit_code == 2 and "No officer" in blocked.output
