"""Every long-running command redacts its log lines as the server does (issue #14's gap): the
CLI installs the redaction before any command runs. Each test runs one command with its work
replaced by a line that names a notice's receipt link and a person, as a worker's error would,
and reads what the logging module made of it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from trustdesk.cli import emergency as emergency_cli
from trustdesk.cli import matrix as matrix_cli
from trustdesk.cli import pipeline as pipeline_cli
from trustdesk.cli.main import app
from trustdesk.http import log_redaction

LINE = "delivery failed for https://td.example/report/R3ceiptSecret?token=T0kenSecret&email=jo%40example.org"
REDACTED = "delivery failed for https://td.example/report/[redacted]?token=[redacted]&email=[redacted]"
SECRETS = ("R3ceiptSecret", "T0kenSecret", "jo%40example.org")
log = logging.getLogger("trustdesk.test_cli_log_redaction")


@pytest.fixture(autouse=True)
def unredacted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The logging of a fresh process: an app made by an earlier test has installed the
    redaction for the whole test process, which would hide a command that does not."""
    monkeypatch.setattr(log_redaction, "_installed", None)
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    yield
    logging.setLogRecordFactory(factory)


@pytest.fixture
def run(fresh_database_url: Callable[[str], str], tmp_path: Path) -> Callable[..., Any]:
    env = {"TRUSTDESK_DATABASE_URL": fresh_database_url("cli_logs"), "TRUSTDESK_DATA_DIR": str(tmp_path)}

    def invoke(*args: str, **more_env: str) -> Any:
        return CliRunner().invoke(app, list(args), env={**env, **more_env})

    return invoke


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == log.name]


def test_this_file_starts_each_test_without_redaction(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        log.warning(LINE)
    assert logged(caplog) == [LINE]  # so each test below fails when its command installs nothing


def test_the_pipeline_worker_redacts_its_log(run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    async def work(_runtime: object) -> None:
        log.error(LINE)

    monkeypatch.setattr(pipeline_cli, "_runtime", lambda *a, **k: SimpleNamespace(worker=SimpleNamespace(stats={})))
    monkeypatch.setattr(pipeline_cli, "_work", work)
    with caplog.at_level(logging.INFO):
        result = run("pipeline", "worker", TRUSTDESK_BUS="nats")
    assert result.exit_code == 0, result.output
    assert logged(caplog) == [REDACTED]


def test_the_emergency_lane_redacts_its_log(run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    def tick(*_: object, **__: object) -> int:
        log.warning("paging %s", LINE)  # an argument is redacted too
        return 0

    monkeypatch.setattr(emergency_cli.lane_runner, "tick", tick)
    with caplog.at_level(logging.INFO):
        result = run("emergency", "run")
    assert result.exit_code == 0, result.output
    assert logged(caplog) == [f"paging {REDACTED}"]


def test_the_matrix_report_import_redacts_its_log(run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    def import_new(*_: object, **__: object) -> SimpleNamespace:
        log.warning(LINE)
        return SimpleNamespace(imported=[], already=0)

    monkeypatch.setattr(matrix_cli.reports, "import_new", import_new)
    matrix = {
        "TRUSTDESK_PLATFORM": "matrix",
        "TRUSTDESK_MATRIX_HOMESERVER_URL": "http://127.0.0.1:9",
        "TRUSTDESK_MATRIX_SERVER_NAME": "example.org",
        "TRUSTDESK_MATRIX_BOT_USER_ID": "@trustdesk:example.org",
        "TRUSTDESK_MATRIX_BOT_TOKEN": "a-bot-token",
    }
    with caplog.at_level(logging.INFO):
        result = run("matrix", "import-reports", **matrix)
    assert result.exit_code == 0, result.output
    assert logged(caplog) == [REDACTED]


def test_the_server_redacts_its_log(run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """`serve` was redacted before the CLI was (create_app installs it): it stays so."""
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: log.info(LINE))
    with caplog.at_level(logging.INFO):
        result = run("serve")
    assert result.exit_code == 0, result.output
    assert logged(caplog) == [REDACTED]
    assert not any(secret in caplog.text for secret in SECRETS)
