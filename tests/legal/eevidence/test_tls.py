"""The WISP listener over real TLS on loopback: mutual TLS maps a certificate to an identity;
an unknown certificate changes nothing; the body limit holds; the outbox sends over mutual
TLS and retries with the same transaction id after a failure."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import TEST_ACTOR
from tests.legal.eevidence import hi1
from tests.legal.eevidence.certs import Authority, Issued, free_port
from trustdesk.core.clock import FrozenClock
from trustdesk.core.settings import Settings
from trustdesk.http.container import Container
from trustdesk.legal.eevidence import outbox
from trustdesk.legal.eevidence.api import TlsFiles, WispListener, create_wisp_app
from trustdesk.legal.eevidence.identities import Identities, fingerprint
from trustdesk.legal.eevidence.models import InboundMessage, Order, OutboundMessage, OutboxState
from trustdesk.legal.models import LawfulRequest


@dataclass
class Pki:
    ca: Authority
    server: Issued
    wisp_ie: Issued  # the certificate the WISP presents to the Irish identity
    stranger: Issued  # signed by the same CA, listed for no identity
    provider_ie: Issued  # our certificate for outbound calls
    other_ca: Authority


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca, other = Authority(tmp_path, "eu-wisp"), Authority(tmp_path, "other")
    return Pki(ca, ca.issue("listener", server=True), ca.issue("wisp-ie"), ca.issue("stranger"), ca.issue("provider-ie"), other)


def _identities(pki: Pki, wisp_url: str = "https://127.0.0.1:9/api") -> Identities:
    return Identities.from_settings(
        [
            {
                "id": "ie-dublin",
                "member_state": "IE",
                "receiver_id": hi1.RECEIVER,
                "wisp_base_url": wisp_url,
                "wisp_client_cert_sha256": [fingerprint(pki.wisp_ie.der)],
                "client_cert_file": str(pki.provider_ie.cert),
                "client_key_file": str(pki.provider_ie.key),
                "wisp_ca_file": str(pki.ca.path),
            }
        ]
    )


@pytest.fixture
def listener(pki: Pki, container: Container, settings: Settings, platform: object) -> Iterator[str]:
    container.platform.posting.create_account(username="Suspect_One", display_name="S", phone="+33 6 12 00 00 09", country="FR")  # type: ignore[attr-defined]
    object.__setattr__(container, "settings", settings.model_copy(update={"wisp_max_body_bytes": 64 * 1024}))
    port = free_port()
    server = WispListener(
        create_wisp_app(container, _identities(pki)),
        host="127.0.0.1",
        port=port,
        tls=TlsFiles(pki.server.cert, pki.server.key, pki.ca.path),
    )
    server.start()
    yield f"https://127.0.0.1:{port}"
    server.stop()


def _client(pki: Pki, who: Issued | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki.ca.path))
    if who is not None:
        context.load_cert_chain(str(who.cert), str(who.key))
    return httpx.Client(verify=context, timeout=10)


XML = {"Content-Type": "application/xml"}


def test_a_known_certificate_files_an_epoc(pki: Pki, listener: str, container: Container) -> None:
    form = hi1.OrderMessage()
    body = form.bytes()
    with _client(pki, pki.wisp_ie) as client:
        response = client.post(f"{listener}/eevidence/production", content=body, headers=XML)
        assert response.status_code == 200, response.text
        assert form.transaction_id.encode() in response.content
        again = client.post(f"{listener}/eevidence/production", content=body, headers=XML)
        assert again.status_code == 200 and again.content == response.content
    with container.db.read() as session:
        assert session.scalar(select(func.count(Order.id))) == 1


def test_an_unknown_certificate_is_refused_and_changes_nothing(pki: Pki, listener: str, container: Container) -> None:
    with _client(pki, pki.stranger) as client:
        response = client.post(f"{listener}/eevidence/production", content=hi1.OrderMessage().bytes(), headers=XML)
    assert response.status_code == 403 and response.json()["type"].endswith("unknown-identity")
    with container.db.read() as session:
        assert session.scalar(select(func.count(InboundMessage.id))) == 0
        assert session.scalar(select(func.count(LawfulRequest.id))) == 0


def test_no_certificate_or_another_ca_fails_the_handshake(pki: Pki, listener: str) -> None:
    foreign = pki.other_ca.issue("foreign")
    for who in (None, foreign):
        with _client(pki, who) as client, pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            client.post(f"{listener}/eevidence/production", content=hi1.OrderMessage().bytes(), headers=XML)


def test_a_body_over_the_limit_is_refused_before_it_is_read(pki: Pki, listener: str) -> None:
    with _client(pki, pki.wisp_ie) as client:
        declared = client.post(f"{listener}/eevidence/production", content=b"<" * (65 * 1024), headers=XML)
        assert declared.status_code == 413

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 1024

        chunked = client.post(f"{listener}/eevidence/production", content=chunks(), headers=XML)
        assert chunked.status_code == 413


def test_xml_only(pki: Pki, listener: str) -> None:
    with _client(pki, pki.wisp_ie) as client:
        response = client.post(f"{listener}/eevidence/production", json={"a": 1})
    assert response.status_code == 415


@pytest.fixture
def fake_wisp(pki: Pki) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """The Member State side of outbound calls: fails the first call with 503, then accepts."""
    received: list[tuple[str, bytes]] = []

    async def call(request: Request) -> Response:
        received.append((request.path_params["call"], await request.body()))
        return Response(status_code=503 if len(received) == 1 else 200)

    port = free_port()
    server = WispListener(
        Starlette(routes=[Route("/api/{call}", call, methods=["POST"])]),
        host="127.0.0.1",
        port=port,
        tls=TlsFiles(pki.server.cert, pki.server.key, pki.ca.path),
    )
    server.start()
    yield f"https://127.0.0.1:{port}/api", received
    server.stop()


def test_the_outbox_retries_with_the_same_transaction_id(
    pki: Pki, container: Container, clock: FrozenClock, fake_wisp: tuple[str, list[tuple[str, bytes]]]
) -> None:
    from trustdesk.core.blobs import InMemoryBlobStore
    from trustdesk.legal.eevidence import inbox
    from trustdesk.legal.eevidence.models import Endpoint
    from trustdesk.legal.eevidence.service import Context

    url, received = fake_wisp
    identities = _identities(pki, url)
    container.platform.posting.create_account(username="Suspect_One", display_name="S", phone="+33 6 12 00 00 09", country="FR")  # type: ignore[attr-defined]
    ctx = Context(clock=clock, platform=container.platform, blobs=InMemoryBlobStore(), identities=identities)
    form = hi1.OrderMessage(legal_type="EPOC-PR")
    assert (
        inbox.receive(
            container.db, ctx=ctx, identity=identities.get("ie-dublin"), endpoint=Endpoint.PRESERVATION, body=form.bytes()
        ).status
        == 200
    )
    with container.db.transaction() as session:
        order = session.scalar(select(Order))
        assert order is not None
        row = outbox.queue_datapreserved(session, actor=TEST_ACTOR, clock=clock, identities=identities, order_id=order.id)
        row_id, tx = row.id, row.transaction_id
    transport = outbox.HttpxTransport(timeout_s=10)
    try:
        assert (
            outbox.send_due(
                container.db, identities=identities, transport=transport, clock=clock, max_attempts=5, first_backoff_s=30
            )
            == []
        )
        assert (
            outbox.send_due(
                container.db, identities=identities, transport=transport, clock=clock, max_attempts=5, first_backoff_s=30
            )
            == []
        )  # not due yet
        clock.advance(seconds=31)
        assert outbox.send_due(
            container.db, identities=identities, transport=transport, clock=clock, max_attempts=5, first_backoff_s=30
        ) == [row_id]
        clock.advance(days=1)
        assert (
            outbox.send_due(
                container.db, identities=identities, transport=transport, clock=clock, max_attempts=5, first_backoff_s=30
            )
            == []
        )  # sent once
    finally:
        transport.close()
    assert [c for c, _ in received] == ["datapreserved", "datapreserved"]
    assert received[0][1] == received[1][1] and tx.encode() in received[0][1]  # the same message, resent
    assert b"Preserved" in received[0][1]
    with container.db.read() as session:
        sent = session.get(OutboundMessage, row_id)
        assert sent is not None and sent.state == OutboxState.SENT and sent.attempts == 2
