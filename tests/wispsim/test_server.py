"""The simulator's server and client over real mutual TLS on loopback: a provider's call is
checked and acknowledged, an acknowledged outcome brings a `deliverystatus` back, and a
client without a certificate from the test CA is turned away at the handshake."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.wispsim import calls
from trustdesk_wispsim import messages, pki, rules, server
from trustdesk_wispsim.client import Sender, client_context
from trustdesk_wispsim.ledger import Ledger


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.create(tmp_path_factory.mktemp("pki"))


class Provider:
    """A stand-in for the provider's /eevidence/ endpoints: records what WISP sends it."""

    def __init__(self, certs: pki.Pki) -> None:
        received: list[tuple[str, bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = server.server_context(ca=certs.ca, cert=certs.cert("provider-server"), key=certs.key("provider-server"))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def running(certs: pki.Pki, tmp_path: Path) -> Iterator[tuple[str, Ledger, Provider]]:
    provider = Provider(certs)
    ledger = Ledger(tmp_path / "state")
    back = Sender.open(provider.url, ledger, ca=certs.ca, cert=certs.cert("wisp-client"), key=certs.key("wisp-client"))
    wisp = server.Wisp(ledger=ledger, me=calls.ME, provider=calls.PROVIDER, sender=back)
    context = server.server_context(ca=certs.ca, cert=certs.cert("wisp-server"), key=certs.key("wisp-server"))
    httpd = server.make_server(wisp, host="127.0.0.1", port=0, context=context)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", ledger, provider
    httpd.shutdown()
    httpd.server_close()
    provider.httpd.shutdown()
    provider.httpd.server_close()


def provider_client(certs: pki.Pki) -> httpx.Client:
    return httpx.Client(verify=client_context(ca=certs.ca, cert=certs.cert("provider-client"), key=certs.key("provider-client")))


def test_an_outcome_is_acknowledged_and_answered_with_deliverystatus(
    running: tuple[str, Ledger, Provider], certs: pki.Pki
) -> None:
    url, ledger, provider = running
    order = messages.Order(
        "EPOC",
        "JI-1",
        "TJ Paris",
        messages.ApproverRole.JUDGE,
        [messages.Target("ServiceAccessIdentifier", "u1001")],
        [messages.RequestType.SUBSCRIBER],
        priority=messages.Priority.TEN_DAYS_ASAP,
    ).with_tasks()
    sent = messages.production(order, sender=calls.ME, receiver=calls.PROVIDER, at=datetime.now(UTC))
    # what `send` would do, without a provider to take it: the ledger learns the order
    Sender(provider.url, ledger, provider_client(certs)).send(sent, order)
    with provider_client(certs) as client:
        answer = client.post(f"{url}/outcome", content=calls.outcome(order.authorisation_id, order.task_ids[0]))
    assert answer.status_code == 200, answer.text
    assert rules.parse(answer.content) is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(p.endswith("/deliverystatus") for p, _ in provider.received):
        time.sleep(0.05)
    statuses = [body for path, body in provider.received if path == "/eevidence/deliverystatus"]
    assert len(statuses) == 1
    parsed = rules.Inbound.of(rules.parse(statuses[0]))
    assert parsed.dictionary_values("DeliveryStatus") == ["Received"] and order.task_ids[0] in parsed.references()
    assert [(r.path, r.ok) for r in ledger.received()] == [("outcome", True)]


def test_a_broken_call_is_answered_400_with_its_problems_and_recorded(
    running: tuple[str, Ledger, Provider], certs: pki.Pki
) -> None:
    url, ledger, _ = running
    with provider_client(certs) as client:
        answer = client.post(f"{url}/outcome", content=calls.outcome("no-such-order", "x"))
    assert answer.status_code == 400
    assert any("no order WISP sent" in p for p in answer.json()["problems"])
    assert [r.ok for r in ledger.received()] == [False]


def test_a_client_without_a_certificate_is_refused_at_the_handshake(
    running: tuple[str, Ledger, Provider], certs: pki.Pki
) -> None:
    url, ledger, _ = running
    with httpx.Client(verify=client_context(ca=certs.ca, cert=None, key=None)) as anonymous:
        with pytest.raises((httpx.HTTPError, ssl.SSLError)):
            anonymous.post(f"{url}/outcome", content=b"<x/>")
    assert ledger.received() == []
