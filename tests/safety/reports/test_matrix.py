"""Matrix user reports reach review in a deployment, against a real Synapse: a user reports a
message through the client API, and `trustdesk matrix import-reports` (once, or in a loop
until SIGTERM) or the server's own schedule makes it a review case; importing again makes no
second case."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.platform.matrix.conftest import MatrixWorld, _synapse_installed, eventually, matrix  # noqa: F401 - fixtures
from tests.waiting import patience
from trustdesk.cli.main import app as cli
from trustdesk.core.database import Database
from trustdesk.platform.matrix.models import MatrixReport
from trustdesk.safety.reports import matrix as reports
from trustdesk.safety.review.models import Case
from trustdesk.web.app import create_app

pytestmark = pytest.mark.synapse


@pytest.fixture
def env(matrix: MatrixWorld, tmp_path: Path) -> dict[str, str]:
    """The settings of a Matrix deployment, as the CLI reads them: the live Trustdesk's
    database and the Synapse it moderates."""
    return {
        "TRUSTDESK_DATABASE_URL": matrix.trustdesk.container.settings.sqlalchemy_url,
        "TRUSTDESK_DATA_DIR": str(tmp_path),
        "TRUSTDESK_PLATFORM": "matrix",
        "TRUSTDESK_MATRIX_HOMESERVER_URL": matrix.synapse.url,
        "TRUSTDESK_MATRIX_SERVER_NAME": "trustdesk.test",
        "TRUSTDESK_MATRIX_BOT_USER_ID": matrix.synapse.user_id("trustdesk-bot"),
        "TRUSTDESK_MATRIX_BOT_TOKEN": matrix.bot_token,
        "COLUMNS": "200",
    }


def _reported(matrix: MatrixWorld, name: str, text: str, reason: str) -> tuple[str, str, str]:
    """Alice posts `text` in a room with Bob, and Bob reports it: (event id, Alice, Bob)."""
    alice, bob = matrix.user(f"alice_{name}"), matrix.user(f"bob_{name}")
    room = alice.create_room(invite=(bob.user_id,))
    bob.join(room)
    sent = alice.send(room, text)
    assert bob.report(room, sent.event_id, reason).status_code == 200
    return sent.event_id, alice.user_id, bob.user_id


def _cases(matrix: MatrixWorld, event_id: str) -> list[tuple[int, str, str, int, str]]:
    with matrix.trustdesk.container.db.transaction() as session:
        rows = session.scalars(select(Case).where(Case.subject_id == event_id)).all()
        return [(c.id, c.subject_kind, c.source, c.reports, c.reason) for c in rows]


def _stored(matrix: MatrixWorld, event_id: str) -> list[MatrixReport]:
    with matrix.trustdesk.container.db.transaction() as session:
        rows = session.scalars(select(MatrixReport).where(MatrixReport.event_id == event_id)).all()
        session.expunge_all()
        return list(rows)


def test_the_cli_imports_a_report_into_a_review_case_once(matrix: MatrixWorld, env: dict[str, str]) -> None:
    event_id, alice, bob = _reported(matrix, "cli", "you will regret this", "threatening me")
    runner = CliRunner()
    first = runner.invoke(cli, ["matrix", "import-reports"], env=env)
    assert first.exit_code == 0, first.output
    assert "1 new reports imported into review" in first.output and event_id in first.output
    [(case_id, kind, source, count, reason)] = _cases(matrix, event_id)
    assert (kind, source, count) == ("message", "notice", 1) and reason == f"Matrix report by {bob}: threatening me"
    [notice] = _stored(matrix, event_id)
    assert (notice.reporter, notice.sender, notice.reason, notice.case_ref) == (bob, alice, "threatening me", str(case_id))

    again = runner.invoke(cli, ["matrix", "import-reports"], env=env)
    assert (
        again.exit_code == 0 and "0 new reports imported" in again.output and "1 read again were already imported" in again.output
    )
    assert _cases(matrix, event_id) == [(case_id, kind, source, 1, reason)] and len(_stored(matrix, event_id)) == 1


def test_the_import_reads_every_page_and_commits_in_batches(matrix: MatrixWorld) -> None:
    """More new reports than a page, stored in batches smaller still, each report once."""
    reported = [_reported(matrix, f"page{n}", f"abuse number {n}", f"reason {n}")[0] for n in range(4)]
    db, clock = matrix.trustdesk.container.db, matrix.trustdesk.container.clock
    run = reports.import_new(db, platform=matrix.platform, clock=clock, page_size=2, batch=3)
    mine = [i for i in run.imported if i.event_id in reported]  # other tests' reports may be pending too
    assert sorted(i.event_id for i in mine) == sorted(reported) and len({i.case_id for i in mine}) == 4
    assert reports.import_new(db, platform=matrix.platform, clock=clock, page_size=2).imported == []
    with db.transaction() as session:
        per_event = dict(session.execute(select(MatrixReport.event_id, func.count()).group_by(MatrixReport.event_id)).all())
    assert [per_event[e] for e in reported] == [1, 1, 1, 1]


def test_the_walk_stops_a_page_past_the_checkpoint(matrix: MatrixWorld) -> None:
    """Synapse cannot be asked for the reports after an id: the newest are read first, and
    the walk ends with the first page older than the checkpoint (less the lookback)."""
    for n in range(3):
        _reported(matrix, f"walk{n}", f"spam {n}", "spam")
    everything = reports.unimported(matrix.platform, since=None, page_size=2)
    ahead = datetime.now(UTC) + reports.LOOKBACK + timedelta(minutes=1)  # a checkpoint newer than every report
    assert len(everything) >= 3 and len(reports.unimported(matrix.platform, since=ahead, page_size=2)) == 2
    assert [r["id"] for r in everything] == sorted({r["id"] for r in everything})  # oldest first, each once


def test_a_second_report_of_a_message_joins_its_open_case(matrix: MatrixWorld) -> None:
    alice, bob, carol = matrix.user("alice_group"), matrix.user("bob_group"), matrix.user("carol_group")
    room = alice.create_room(invite=(bob.user_id, carol.user_id))
    bob.join(room)
    carol.join(room)
    sent = alice.send(room, "everyone here is worthless")
    db, clock = matrix.trustdesk.container.db, matrix.trustdesk.container.clock
    assert bob.report(room, sent.event_id, "insults").status_code == 200
    first = [i for i in reports.import_new(db, platform=matrix.platform, clock=clock).imported if i.event_id == sent.event_id]
    assert carol.report(room, sent.event_id, "hate").status_code == 200
    second = reports.import_new(db, platform=matrix.platform, clock=clock).imported
    [(case_id, _, _, count, _)] = _cases(matrix, sent.event_id)
    assert [i.case_id for i in first] == [i.case_id for i in second] == [case_id]
    assert count == 2 and len(_stored(matrix, sent.event_id)) == 2


def test_the_server_imports_reports_on_its_schedule(matrix: MatrixWorld) -> None:
    """What a deployment runs with platform = matrix: the connector router's lifespan starts
    the schedule (matrix_reports_every_s), and it stops with the server."""
    live = matrix.trustdesk.container
    assert reports.ReportSchedule.start_for(live, every_s=0) is None  # the tests' default: off
    settings = live.settings.model_copy(update={"matrix_reports_every_s": 0.2})
    container = type(live)(
        settings=settings, db=Database.from_url(settings.sqlalchemy_url), clock=live.clock, platform=matrix.platform
    )
    with TestClient(create_app(settings, container=container)):
        event_id, _, _ = _reported(matrix, "schedule", "send me your password", "phishing")
        eventually(lambda: _cases(matrix, event_id))
    [(_, _, source, count, _)] = _cases(matrix, event_id)
    assert (source, count) == ("notice", 1) and len(_stored(matrix, event_id)) == 1


def test_the_cli_keeps_importing_until_sigterm(matrix: MatrixWorld, env: dict[str, str]) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "trustdesk", "matrix", "import-reports", "--every", "0.2"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        event_id, _, _ = _reported(matrix, "loop", "pay or else", "extortion")
        eventually(lambda: _cases(matrix, event_id))
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=patience(30))
    assert worker.returncode == 0, output
    assert event_id in output and "new reports imported into review" in output
    assert len(_cases(matrix, event_id)) == 1 and len(_stored(matrix, event_id)) == 1
