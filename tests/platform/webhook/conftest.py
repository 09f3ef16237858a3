"""The example platform server (src/trustdesk/platform/webhook/example_server.py) on loopback,
backed by a fresh in-memory demo platform, and a webhook adapter pointed at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from tests.platform.contract import ContractWorld
from tests.platform.factories import build_contract_world
from tests.platform.matrix.synapse_server import free_port
from tests.waiting import wait_until
from trustdesk.platform.demo import DemoPlatform
from trustdesk.platform.port import Platform
from trustdesk.platform.webhook.adapter import WebhookPlatform
from trustdesk.platform.webhook.example_server import create_example_app

SECRET = b"webhook-test-secret-0123456789"


@contextmanager
def example_server(platform: Platform, *, secret: bytes = SECRET) -> Iterator[str]:
    """Serve `platform` through the example app on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_example_app(platform, secret=secret), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), interval=0.01, what="the example platform server starting")
    if not server.started:
        raise RuntimeError("the example platform server stopped before it started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def demo() -> DemoPlatform:
    return DemoPlatform.from_url("sqlite://")


@pytest.fixture
def base_url(demo: DemoPlatform) -> Iterator[str]:
    with example_server(demo) as url:
        yield url


@pytest.fixture
def webhook(base_url: str) -> Iterator[WebhookPlatform]:
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, backoff_s=0.01)
    yield adapter
    adapter.close()


@pytest.fixture
def demo_world(demo: DemoPlatform) -> ContractWorld:
    return build_contract_world(demo, now=datetime.now(UTC))


class FlakyTransport(httpx.BaseTransport):
    """Forwards to the real server, but fails the first `failures` attempts: `mode` "refuse"
    before sending (connection refused), "lose" after the server answered (the answer is lost
    on the way back), or "5xx" (a 503 instead of the server's answer)."""

    def __init__(self, *, failures: int, mode: str) -> None:
        self.failures, self.mode = failures, mode
        self.requests: list[httpx.Request] = []
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        failing = len(self.requests) <= self.failures
        if failing and self.mode == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        response = self._real.handle_request(request)
        if failing and self.mode == "lose":
            response.read()
            raise httpx.ReadTimeout("answer lost", request=request)
        if failing and self.mode == "5xx":
            response.read()
            return httpx.Response(503, json={"error": "maintenance"}, request=request)
        return response
