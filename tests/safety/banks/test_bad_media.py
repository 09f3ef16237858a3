"""Bad media at the API and the CLI: each is a clear refusal (an RFC 9457 problem with a 4xx
status, a readable line), and a good file next to it is still hashed and matched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.safety.signals.test_media_checks import BAD, png_of_size
from trustdesk.cli.main import app
from trustdesk.core.identity.permissions import Permission
from trustdesk.platform.demo import imagery

PROBLEM = "application/problem+json"
STATUS = {
    "empty": 422,
    "zero width": 422,
    "svg": 415,
    "pdf as image": 415,
    "corrupt png header": 422,
    "truncated png": 422,
    "scan bomb": 422,
}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_each_bad_upload_is_a_problem_and_the_next_good_one_is_answered(client, staff) -> None:
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.MATCH_LOOKUP)}"
    cases = {name: (data, content_type, STATUS[name]) for name, (data, content_type, _, _) in BAD.items()}
    cases["pixel bomb"] = (png_of_size(20_000, 20_000), "image/png", 413)
    for name, (data, content_type, status) in cases.items():
        response = client.post("/api/v1/match/lookup", files={"file": ("f", data, content_type or "application/octet-stream")})
        assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), (name, response.text)
        assert response.json()["detail"] and "BytesIO" not in response.json()["detail"], name
    good = client.post("/api/v1/match/lookup", files={"file": ("p.jpg", imagery.poster_original()[1], "image/jpeg")})
    assert good.status_code == 200 and good.json()["hashes"]["pdq"]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_match_folder_says_why_each_bad_file_was_skipped(fresh_database_url, tmp_path: Path) -> None:
    env = {"TRUSTDESK_DATABASE_URL": fresh_database_url("bad_media_cli"), "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "scans.jpg").write_bytes(BAD["scan bomb"][0])
    (folder / "bomb.png").write_bytes(png_of_size(20_000, 20_000))
    (folder / "cut.png").write_bytes(BAD["truncated png"][0])
    (folder / "good.jpg").write_bytes(imagery.poster_original()[1])
    result = runner.invoke(app, ["match", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert "4 files, 0 matched, 3 unreadable" in result.output
    lines = {line.split()[1].rstrip(":"): line for line in result.output.splitlines() if line.startswith("unreadable")}
    assert "scans" in lines["scans.jpg"] and "20,000 x 20,000" in lines["bomb.png"] and "truncated" in lines["cut.png"]
