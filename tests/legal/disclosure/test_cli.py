"""The operator's commands against a real database of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy.rules import POLICY, load_policy


@pytest.fixture
def run(fresh_database_url, tmp_path: Path):
    env = {"TRUSTDESK_DATABASE_URL": fresh_database_url("disclosure_cli"), "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_jurisdictions_show_and_update(run, tmp_path: Path) -> None:
    shown = run("legal", "jurisdictions", "show", "TR")
    assert shown.exit_code == 0 and "Türkiye" in shown.output and "CC BY 4.0" in shown.output
    rows = {p.iso3: p.estimate for p in jurisdictions.load().countries.values()} | {"TUR": 1.5}
    csv = tmp_path / "wgi.csv"
    csv.write_text("country,year,estimate\n" + "".join(f"{c},2024,{v}\n" for c, v in rows.items()))
    updated = run("legal", "jurisdictions", "update", str(csv))
    assert updated.exit_code == 0 and "TR Türkiye: tier 4 -> 1" in updated.output and "wgi2024" in updated.output
    bad = tmp_path / "bad.csv"
    bad.write_text("country,year,estimate\nTUR,2024,9\n")
    refused = run("legal", "jurisdictions", "update", str(bad))
    assert refused.exit_code == 2 and "outside the WGI scale" in refused.output


def test_policy_show_and_dry_run(run, tmp_path: Path) -> None:
    assert "PE-1" in run("legal", "policy", "show").output
    draft = tmp_path / "draft.toml"
    draft.write_text(POLICY.read_text().replace(f'version = "{load_policy().version}"', 'version = "draft-1"'))
    result = run("legal", "policy", "dry-run", str(draft))
    assert result.exit_code == 0 and "0 of 0 decision(s) would change" in result.output
    draft.write_text("version = ")
    assert run("legal", "policy", "dry-run", str(draft)).exit_code == 2


def test_release_expired_holds_and_the_notice_queue(run) -> None:
    assert "released 0 expired hold(s)" in run("disclosure", "release-expired").output
    assert "due: 0" in run("disclosure", "notices").output
    assert run("disclosure", "numbers", "--from", "2026-01-01", "--to", "2027-01-01").exit_code == 0
