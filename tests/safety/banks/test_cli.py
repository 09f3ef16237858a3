"""`trustdesk banks ...` and `trustdesk match FOLDER` against a database of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from trustdesk.cli.banks import parse_every
from trustdesk.cli.main import app
from trustdesk.platform.demo import imagery
from trustdesk.safety.signals.hashing import hash_media


@pytest.fixture
def run(fresh_database_url, tmp_path):  # type: ignore[no-untyped-def]
    env = {"TRUSTDESK_DATABASE_URL": fresh_database_url("banks_cli"), "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_create_fetch_and_match_a_folder(run, tmp_path: Path) -> None:
    assert run("banks", "create", "Propaganda", "--policy", "terrorism").exit_code == 0
    signals = tmp_path / "list.txt"
    signals.write_text(f"pdq {hash_media(imagery.poster_original()[1]).pdq}\n")
    added = run(
        "banks", "add-exchange", "partner", "--api", "local_file", "--bank", "Propaganda", "--config", f"filename={signals}"
    )
    assert added.exit_code == 0, added.output
    fetched = run("banks", "fetch")
    assert fetched.exit_code == 0 and "1 added" in fetched.output
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("poster_resized", "cat"):
        (folder / f"{name}.img").write_bytes(imagery.IMAGES[name]()[1])
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    matched = run("match", str(folder))
    assert matched.exit_code == 0, matched.output
    assert "poster_resized.img" in matched.output and "3 files, 1 matched, 1 unreadable" in matched.output
    listed = run("banks", "list")
    assert "Propaganda" in listed.output and "partner" in listed.output and "ok" in listed.output


def test_import_export_and_errors(run, tmp_path: Path) -> None:
    run("banks", "create", "Exact", "--policy", "terrorism")
    good = tmp_path / "good.csv"
    good.write_text(f"signal_type,value\nmd5,{'a' * 32}\n")
    assert "1 added" in run("banks", "import", "Exact", str(good)).output
    assert run("banks", "export", "Exact").output.splitlines()[1].startswith(f"md5,{'a' * 32}")
    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,value\npdq,123\n")
    result = run("banks", "import", "Exact", str(bad))
    assert result.exit_code == 2 and "Entry 1" in result.output
    assert run("banks", "import", "Missing", str(good)).exit_code == 2
    assert run("banks", "create", "Bad", "--policy", "nope").exit_code == 2


def test_schedule_intervals() -> None:
    assert parse_every("15m") == 900 and parse_every("30s") == 30 and parse_every("2h") == 7200
    with pytest.raises(typer.BadParameter):
        parse_every("soon")
