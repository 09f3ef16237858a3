"""`trustdesk transparency report` against a real database of its own: every file of both
reports, with a SHA256SUMS that checks."""

from __future__ import annotations

import hashlib

from typer.testing import CliRunner

from trustdesk.cli.main import app


def _runner(fresh_database_url, tmp_path):  # type: ignore[no-untyped-def]
    env = {
        "TRUSTDESK_DATABASE_URL": fresh_database_url("cli_transparency"),
        "TRUSTDESK_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


ANNEX_NAMES = [
    f"dsa-transparency-2026-H1-{sheet}.csv"
    for sheet in (
        "1_report_identification",
        "2_categories_names",
        "3_member_states_orders",
        "4_notices",
        "5_own_initiative_illegal",
        "6_own_initiative_TC",
        "7_appeals_and_recidivism",
        "8_automated_means",
        "9_human_resources",
        "10_AMAR",
        "11_qualitative",
    )
]


def test_writes_every_file_of_both_reports(fresh_database_url, tmp_path) -> None:
    run = _runner(fresh_database_url, tmp_path)
    out = tmp_path / "out"
    result = run("transparency", "report", "--period", "2026-H1", "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "SHA256SUMS",
        *sorted(ANNEX_NAMES),
        "dsa-transparency-2026-H1.html",
        "dsa-transparency-2026-H1.xlsx",  # the same eleven parts as the Commission's workbook (issue #22)
        "government-requests-2026-H1.csv",
        "government-requests-2026-H1.html",
        "government-requests-2026-H1.json",
    ]
    for line in (out / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert "16 files for 2026-H1" in result.output
    assert (out / "dsa-transparency-2026-H1.xlsx").read_bytes()[:2] == b"PK"  # a ZIP: the OOXML workbook


def test_the_trace_lists_figures_and_is_not_a_report_file(fresh_database_url, tmp_path) -> None:
    run = _runner(fresh_database_url, tmp_path)
    out, trace = tmp_path / "out", tmp_path / "trace.csv"
    result = run("transparency", "report", "--period", "2026-H1", "--out", str(out), "--trace", str(trace))
    assert result.exit_code == 0, result.output
    assert trace.read_bytes().startswith(b"file,line,column,value,records\r\n")
    assert not (out / "trace.csv").exists()


def test_a_bad_period_is_a_clear_error_and_writes_nothing(fresh_database_url, tmp_path) -> None:
    run = _runner(fresh_database_url, tmp_path)
    result = run("transparency", "report", "--period", "2026-Q1", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "half-year" in result.output
    assert not (tmp_path / "out").exists()
