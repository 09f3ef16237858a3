"""The WISP side's TLS server: it receives the provider's seven calls over mutual TLS (the
provider's client certificate must chain to the configured CA), checks each against
`rules`, records it with its verdict, and answers 200 (acknowledged) or 400 with the
problems. After an acknowledged `outcome` it sends `deliverystatus` back for each task of
the order, as the issuing authority would."""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from trustdesk_wispsim import messages, rules
from trustdesk_wispsim import namespaces as ns
from trustdesk_wispsim.client import Sender
from trustdesk_wispsim.ledger import Ledger, Received

MAX_BODY = 64 * 1024 * 1024
AUTHORITIES = (  # the simulator's small stand-in for the system's database of authorities
    {"id": "FR-PARQUET-PARIS", "country": "FR", "name": "Parquet de Paris", "role": "PublicProsecutor"},
    {"id": "FR-TJ-PARIS", "country": "FR", "name": "Tribunal judiciaire de Paris", "role": "JudgeCourtOrInvestigatingJudge"},
    {"id": "IE-DPP", "country": "IE", "name": "Office of the Director of Public Prosecutions", "role": "PublicProsecutor"},
)


@dataclass
class Wisp:
    """The simulated system: its identity, the provider's, the ledger, and (optionally) a
    sender back to the provider for acknowledgements."""

    ledger: Ledger
    me: messages.Party
    provider: messages.Party
    sender: Sender | None = None
    acknowledge: messages.Delivery | None = messages.Delivery.RECEIVED
    ea_window: timedelta = rules.EA_WINDOW
    verify_pdf: Callable[[bytes], list[str]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, body: bytes) -> tuple[int, bytes, str]:
        sha256 = hashlib.sha256(body).hexdigest()
        with self.lock:  # one verdict at a time: the ledger is the order of events
            ctx = rules.Context(
                me=(self.me.country, self.me.identifier),
                provider=(self.provider.country, self.provider.identifier),
                orders=self.ledger.orders(),
                seen={r.transaction_id: r.sha256 for r in self.ledger.received()},
                now=datetime.now(UTC),
                ea_window=self.ea_window,
                verify_pdf=self.verify_pdf,
            )
            inbound, problems = rules.check(path, body, sha256, ctx)
            order = rules.order_of(inbound, ctx) if inbound is not None else None
            received = Received(
                path=path,
                transaction_id=inbound.transaction_id if inbound else "",
                authorisation_id=order.authorisation_id if order else "",
                at=ctx.now,
                problems=problems,
                sha256=sha256,
                detail={"reasons": inbound.dictionary_values("EPOCNotificationType")}
                if inbound and path == "nonexecution"
                else {},
            )
            self.ledger.record_received(received)
        if problems:
            problem = {"type": "about:blank", "title": "Rejected by the WISP simulator", "status": 400, "problems": problems}
            return 400, json.dumps(problem).encode(), "application/problem+json"
        assert inbound is not None
        if path == "outcome" and order is not None and self.sender is not None and self.acknowledge is not None:
            tasks = [t for t in order.task_ids if t in inbound.references()] or order.task_ids
            threading.Thread(target=self._acknowledge, args=(order.authorisation_id, tasks), daemon=True).start()
        return 200, self._response(inbound, path), "application/xml"

    def _acknowledge(self, authorisation_id: str, tasks: list[str]) -> None:
        assert self.sender is not None and self.acknowledge is not None
        for task in tasks:
            message = messages.delivery_status(
                authorisation_id, task, self.acknowledge, sender=self.me, receiver=self.provider, at=datetime.now(UTC)
            )
            try:
                self.sender.send(message, task_id=task)
            except Exception:  # noqa: BLE001 - the ledger has it as sent; the test reads the provider's side
                pass

    def _response(self, inbound: rules.Inbound, path: str) -> bytes:
        envelope = messages.Envelope(
            sender=self.me, receiver=self.provider, at=datetime.now(UTC), transaction_id=inbound.transaction_id
        )
        root = envelope.root
        payload = root.find(f"{{{ns.CORE}}}Payload")
        assert payload is not None
        payload.clear()
        responses = etree.SubElement(etree.SubElement(payload, f"{{{ns.CORE}}}ResponsePayload"), f"{{{ns.CORE}}}ActionResponses")
        response = etree.SubElement(responses, f"{{{ns.CORE}}}ActionResponse")
        etree.SubElement(response, f"{{{ns.CORE}}}ActionIdentifier").text = "0"
        etree.SubElement(response, f"{{{ns.CORE}}}Acknowledged").text = str(uuid.uuid4())
        if path in ("authorities", "enforcingauthorityId"):
            listing = etree.SubElement(response, f"{{{ns.CORE}}}Authorities")
            for authority in AUTHORITIES:
                item = etree.SubElement(listing, f"{{{ns.CORE}}}Authority")
                for key, value in authority.items():
                    etree.SubElement(item, f"{{{ns.CORE}}}{key.capitalize()}").text = value
        return envelope.bytes()


def server_context(*, ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2+ with the client's certificate required and checked against `ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.load_verify_locations(cafile=str(ca))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def make_server(wisp: Wisp, *, host: str, port: int, context: ssl.SSLContext | None) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "wispsim/1"

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413, b'{"title": "too large"}', "application/problem+json")
                return
            body = self.rfile.read(length)
            path = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            self._reply(*wisp.handle(path, body))

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/").endswith("/healthz") or self.path == "/healthz":
                self._reply(200, b"ok", "text/plain")
            else:
                self._reply(404, b"", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the ledger is the log

    server = ThreadingHTTPServer((host, port), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server
