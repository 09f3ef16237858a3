"""A live Trustdesk (uvicorn in a thread, its own migrated database, a seeded demo platform)
and a real headless Chromium driven by Playwright. Playwright never downloads a browser:
it drives the system's /usr/bin/chromium, which `make browser` installs."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from tests.waiting import patience, wait_until
from trustdesk.core import migrate
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.web.app import create_app

CHROMIUM = os.environ.get("TRUSTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    container: Container


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(fresh_database_url, tmp_path_factory) -> Iterator[LiveServer]:
    url = fresh_database_url("browser")
    migrate.upgrade(url)
    data_dir = tmp_path_factory.mktemp("live")
    settings = load_settings(data_dir=data_dir, database_url=url, session_cookie_secure=False)
    platform = DemoPlatform.from_url(f"sqlite:///{data_dir / 'platform.db'}")
    seed_demo(platform)
    container = Container(settings=settings, db=Database.from_url(url), clock=SystemClock(), platform=platform)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, container=container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), what="the live server starting")
    if not server.started:
        raise RuntimeError("the live server stopped before it started")
    yield LiveServer(url=f"http://127.0.0.1:{port}", container=container)
    server.should_exit = True
    thread.join(timeout=10)
    container.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if os.environ.get("TRUSTDESK_SKIP_BROWSER") == "1":
        pytest.skip("TRUSTDESK_SKIP_BROWSER=1")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for the state they expect, up to a deadline only reached when it is
    # wrong; Playwright's own 5 s is too short for a loaded machine.
    expect.set_options(timeout=patience(30) * 1000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, **context_options) -> object:  # type: ignore[no-untyped-def]
    """A page in a fresh browser context (its own cookies) whose actions and navigations wait
    as long as the suite's assertions do; close it with `page.context.close()`."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 900}, **context_options})
    context.set_default_timeout(patience(30) * 1000)
    return context.new_page()


@pytest.fixture
def page(browser) -> Iterator[object]:
    page = open_page(browser)
    yield page
    page.context.close()
