"""No secret and no personal data in any log line (issue #14): the public journeys that carry
a secret in their links run against a real uvicorn server, and every log record it and the
app make is searched for those secrets."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from trustdesk.core import migrate
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.core.settings import Settings, load_settings
from trustdesk.http import log_redaction
from trustdesk.http.container import Container
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.safety.review import service as review
from trustdesk.web.app import create_app, route_templates


def test_every_path_parameter_is_known_to_be_secret_personal_or_plain(settings: Settings) -> None:
    """A new route's parameter must be classified, so that a secret under a new name (say
    `{link}`) is not written to the access log unnoticed."""
    known = log_redaction.SECRET_PARAMETERS | log_redaction.PERSONAL_PARAMETERS | log_redaction.PLAIN_PARAMETERS
    found = {name for path in log_redaction.route_paths(create_app(settings)) for name in log_redaction._PARAMETER.findall(path)}
    assert found - known == set(), "classify these path parameters in trustdesk/http/log_redaction.py"
    assert {"token", "secret", "account_id"} <= found


def test_the_cli_redacts_with_the_server_routes(settings: Settings) -> None:
    """The CLI's redaction (web.app.route_templates, built without an app) knows every route
    of the server's that takes a parameter (it leaves out the health routes, the API docs and
    the static files)."""
    served = set(log_redaction.route_paths(create_app(settings)))
    assert {path for path in served - route_templates() if "{" in path} == set()
    assert {"/report/{token}", "/portal/disclosures/{secret}"} <= route_templates()


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            '1.2.3.4:5 - "GET /statement/Ab_-9x?lang=fr HTTP/1.1" 200',
            '1.2.3.4:5 - "GET /statement/[redacted]?lang=fr HTTP/1.1" 200',
        ),
        ("unhandled error on /portal/disclosures/s3cr3t", "unhandled error on /portal/disclosures/[redacted]"),
        ("/api/v1/notices/t0k", "/api/v1/notices/[redacted]"),
        ("/console/review/accounts/@bob:example.org", "/console/review/accounts/[redacted]"),
        (
            "/console/audit?before=3&actor=anonymous%3Ajo%40police.fr&action=x",
            "/console/audit?before=3&actor=[redacted]&action=x",
        ),
        (
            'HTTP Request: GET https://td.example:8443/report/r3c "HTTP/1.1 200 OK"',
            'HTTP Request: GET https://td.example:8443/report/[redacted] "HTTP/1.1 200 OK"',
        ),
        ("/report?subject_id=m1&token=abc", "/report?subject_id=m1&token=[redacted]"),
        ("/api/v1/tokens/5/revoke", "/api/v1/tokens/5/revoke"),
        ("/console/review/cases/7", "/console/review/cases/7"),
    ],
)
def test_the_redactor_blanks_secret_segments_and_nothing_else(settings: Settings, line: str, expected: str) -> None:
    assert log_redaction.Redactor(log_redaction.route_paths(create_app(settings)))(line) == expected


def test_a_traceback_is_written_redacted(settings: Settings) -> None:
    log_redaction.install(create_app(settings))
    captured = Captured()
    logger = logging.getLogger("trustdesk.test_log_redaction")
    logger.addHandler(captured)
    try:
        try:
            raise LookupError("no package at https://td.example/portal/disclosures/pkgSecret1")
        except LookupError:
            logger.exception("download failed")
    finally:
        logger.removeHandler(captured)
    [line] = captured.lines
    assert "LookupError" in line and "/portal/disclosures/[redacted]" in line and "pkgSecret1" not in line


# -- the journeys, through a real server -----------------------------------------------------


class Captured(logging.Handler):
    """Keeps every record, formatted, as a handler configured by an operator would see it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {self.format(record)}")


@dataclass
class Live:
    url: str
    container: Container
    log: Captured


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live(fresh_database_url, tmp_path: Path) -> Iterator[Live]:
    url = fresh_database_url("logs")
    migrate.upgrade(url)
    settings = load_settings(data_dir=tmp_path, database_url=url, session_cookie_secure=False)
    platform = DemoPlatform.from_url(f"sqlite:///{tmp_path / 'platform.db'}")
    container = Container(settings=settings, db=Database.from_url(url), clock=SystemClock(), platform=platform)
    captured = Captured()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "trustdesk")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(captured)
        logger.setLevel(logging.DEBUG)
    port = _free_port()
    # log_config=None: uvicorn keeps its access log on but leaves this process's logging set-up alone
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, container=container),
            host="127.0.0.1",
            port=port,
            log_config=None,
            log_level="debug",
            access_log=True,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "the server did not start"
        yield Live(url=f"http://127.0.0.1:{port}", container=container, log=captured)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(captured)
            logger.setLevel(level)
        container.db.dispose()


def _statement_token(live: Live, message_id: str) -> str:
    with live.container.db.transaction() as session:
        review.ensure_queues(session, actor=TEST_ACTOR, clock=live.container.clock)
        action = enforcement.take_action(
            session,
            actor=TEST_ACTOR,
            clock=live.container.clock,
            platform=live.container.platform,
            subject_kind="message",
            subject_id=message_id,
            action="remove_message",
            policy="illegal_goods",
            automated=False,
            source="notice",
            reason="Advertises drugs for sale in a neighbourhood group.",
        )
        return session.scalar(select(StatementOfReasons.token).where(StatementOfReasons.action_id == action.id))


def test_no_link_secret_or_personal_datum_reaches_any_log_line(live: Live) -> None:
    cast = seed_demo(live.container.platform)
    statement = _statement_token(live, cast.messages["drug_price_list"])
    package = secrets.token_urlsafe(32)  # the access log writes the path whatever the answer
    reporter = "tom.notifier@example.de"
    with httpx.Client(base_url=live.url, timeout=30) as http:
        filed = http.post(
            "/report",
            data={
                "reason": "drugs_weapons",
                "subject_kind": "message",
                "subject_id": cast.messages["drug_ad"],
                "explanation": "Drugs.",
                "notifier_name": "Tom",
                "notifier_email": reporter,
                "good_faith": "1",
            },
        )
        assert filed.status_code == 303, filed.text[:300]
        receipt = filed.headers["location"].rsplit("/", 1)[-1]
        assert http.get(f"/report/{receipt}").status_code == 200
        assert http.get(f"/api/v1/notices/{receipt}").status_code == 200
        assert http.get(f"/statement/{statement}?lang=fr").status_code == 200
        assert http.get(f"/api/v1/statements/{statement}").status_code == 200
        assert http.get(f"/appeal/{statement}").status_code == 200
        assert (
            http.post(f"/appeal/{statement}", data={"text": "This was a joke between friends, not an offer."}).status_code == 303
        )
        http.get(f"/portal/disclosures/{package}")
        http.get(f"/console/review/accounts/{cast.accounts['dealer']}")
        http.get("/console/audit", params={"actor": f"anonymous:{reporter}"})
        http.get(f"/statement/{statement}", params={"token": statement})
        http.post("/portal/login", data={"email": reporter, "password": "a wrong password", "totp": "123456"})
    lines = live.log.lines
    access = [line for line in lines if line.startswith("uvicorn.access")]
    assert any("/statement/[redacted]" in line for line in access) and any(
        "/portal/disclosures/[redacted]" in line for line in access
    )
    for secret in (receipt, statement, package, reporter, cast.accounts["dealer"]):
        leaked = [line for line in lines if secret in line or quote(secret, safe="") in line]
        assert leaked == [], f"{secret!r} was logged"
