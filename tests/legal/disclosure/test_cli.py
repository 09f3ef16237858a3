"""The operator's commands against a real database of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.core.audit.models import AuditEntry
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy.rules import POLICY, load_policy


@pytest.fixture
def run(fresh_database_url, tmp_path: Path):
    url = fresh_database_url("disclosure_cli")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    invoke.url = url  # type: ignore[attr-defined]

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_jurisdictions_show_and_update(run, tmp_path: Path) -> None:
    shown = run("legal", "jurisdictions", "show", "TR")
    assert shown.exit_code == 0 and "Türkiye" in shown.output and "CC BY 4.0" in shown.output
    rows = {p.iso3: p.estimate for p in jurisdictions.load().countries.values()} | {"TUR": 1.5}
    csv = tmp_path / "wgi.csv"
    csv.write_text("country,year,estimate\n" + "".join(f"{c},2024,{v}\n" for c, v in rows.items()))
    updated = run("legal", "jurisdictions", "update", str(csv), "--source", "test", "--release", "WGI test")
    assert updated.exit_code == 0 and "TR Türkiye: tier 3 -> 1" in updated.output and "wgi2024" in updated.output
    bad = tmp_path / "bad.csv"
    bad.write_text("country,year,estimate\nTUR,2024,9\n")
    refused = run("legal", "jurisdictions", "update", str(bad))
    assert refused.exit_code == 2 and "outside the WGI scale" in refused.output


def test_jurisdictions_update_shows_first_keeps_the_source_and_is_audited(run, tmp_path: Path) -> None:
    """Issue #16 item 7: a newer WGI release is validated and its changes shown (dry run
    installs nothing), needs its source and release, and the installation is audited."""
    shipped = jurisdictions.SHIPPED_ESTIMATES.read_text(encoding="utf-8")
    newer = tmp_path / "wgi2024.csv"
    newer.write_text(shipped.replace(",2023,", ",2024,").replace("TUR,Türkiye,2024,-0.51", "TUR,Türkiye,2024,1.21"))
    dry = run("legal", "jurisdictions", "update", str(newer), "--dry-run")
    assert dry.exit_code == 0 and "TR Türkiye: tier 3 -> 1" in dry.output and "nothing installed" in dry.output
    assert not (tmp_path / jurisdictions.OVERRIDE).exists()
    unsourced = run("legal", "jurisdictions", "update", str(newer))
    assert unsourced.exit_code == 2 and "--source" in unsourced.output
    done = run(
        "legal", "jurisdictions", "update", str(newer), "--source", "https://example.org/wgi.xlsx", "--release", "WGI 2025"
    )
    assert done.exit_code == 0 and "data year 2023 -> 2024" in done.output
    assert "WGI 2025" in (tmp_path / "policy" / "wgi_rule_of_law.provenance.toml").read_text()
    older = tmp_path / "old.csv"
    older.write_text(shipped.replace(",2023,", ",2021,"))
    refused = run("legal", "jurisdictions", "update", str(older), "--source", "s", "--release", "r")
    assert refused.exit_code == 2 and "older than" in refused.output
    engine = create_engine(run.url)
    try:
        with Session(engine) as session:
            entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "legal.jurisdictions.update")))
    finally:
        engine.dispose()
    assert len(entries) == 1 and entries[0].details["tiers_changed"] == ["TR 3->1"] and entries[0].details["data_year"] == 2024


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
