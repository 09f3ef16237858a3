"""The ten endpoints the provider hosts for WISP, as their own ASGI app on their own TLS
listener (not the console's server): the listener requires a client certificate
(CERT_REQUIRED against `client_ca_file`), and the app maps the certificate's SHA-256 to a
WISP identity (identities.py). A connection without a known certificate gets 403 and changes
nothing; no header can stand in for the certificate.

uvicorn does not put the peer certificate in the ASGI scope, so `WispH11Protocol` adds it
as the ASGI TLS extension (`scope["extensions"]["tls"]["client_cert_chain"]`, PEM) for
every request of the connection.

The body limit (`wisp_max_body_bytes`) is enforced before the bytes are in memory: a declared
Content-Length over it is refused before a byte is read; a chunked body is counted as it
arrives and refused as soon as it passes.

Public entry points: `create_wisp_app(container, identities=None)`, `tls_config(...)`,
`WispListener` (a server in a thread, for `trustdesk wisp serve`, the simulator and tests),
`listener_from_settings(container)`.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from trustdesk.core import audit
from trustdesk.core.errors import InvalidInput
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.legal.eevidence import inbox
from trustdesk.legal.eevidence.identities import Identities
from trustdesk.legal.eevidence.models import Endpoint
from trustdesk.legal.eevidence.service import WISP_ACTOR, Context

MEDIA_TYPES = ("application/xml", "text/xml")


class WispH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the client certificate of the connection in each scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        inner = self.app

        async def with_tls(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": chain, "client_cert_error": None}
            await inner(scope, receive, send)

        self.app = with_tls


def client_certificate(scope: Any) -> bytes | None:
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return ssl.PEM_cert_to_DER_cert(chain[0]) if chain else None


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_wisp_app(container: Container, identities: Identities | None = None) -> Starlette:
    """The WISP endpoints: POST /eevidence/{endpoint} for the ten endpoints of TS 104 144."""
    known = identities or Identities.from_settings(container.settings.wisp_identities)
    limit = container.settings.wisp_max_body_bytes

    def context() -> Context:
        return Context(
            clock=container.clock,
            platform=container.platform,
            blobs=container.blobs,
            pager=container.pager,
            base_url=base(container.settings, Audience.CONSOLE),
            identities=known,
        )

    def answer(a: inbox.Answer, *, close: bool = False) -> Response:
        response = Response(a.body, status_code=a.status, media_type=a.media_type)
        if close:
            response.headers["Connection"] = "close"
        return response

    def refuse(status: int, code: str, title: str, detail: str, endpoint: str) -> inbox.Answer:
        return inbox.problem(status=status, code=code, title=title, detail=detail, endpoint=endpoint, transaction_id=None)

    async def endpoint(request: Request) -> Response:
        name = request.path_params["endpoint"]
        identity = known.by_certificate(client_certificate(request.scope))
        if identity is None:
            await asyncio.to_thread(_audit_unknown, container, name)
            return answer(
                refuse(
                    403,
                    "unknown-identity",
                    "Unknown WISP identity",
                    "The client certificate belongs to no configured WISP identity.",
                    name,
                ),
                close=True,
            )
        try:
            which = Endpoint(name)
        except ValueError:
            return answer(refuse(404, "unknown-endpoint", "No such endpoint", f"WISP endpoints are {', '.join(Endpoint)}.", name))
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in MEDIA_TYPES:
            return answer(
                refuse(415, "unsupported-media-type", "Unsupported media type", "An HI-1 message is application/xml.", name),
                close=True,
            )
        try:
            body = await _read_limited(request, limit)
        except _TooLarge:
            detail = f"The message is over the limit of {limit:,} bytes (TRUSTDESK_WISP_MAX_BODY_BYTES)."
            return answer(refuse(413, "too-large", "Message too large", detail, name), close=True)
        result = await asyncio.to_thread(inbox.receive, container.db, ctx=context(), identity=identity, endpoint=which, body=body)
        return answer(result)

    return Starlette(routes=[Route("/eevidence/{endpoint}", endpoint, methods=["POST"])])


def _audit_unknown(container: Container, endpoint: str) -> None:
    with container.db.transaction() as session:
        audit.record(
            session,
            actor=WISP_ACTOR,
            action="eevidence.inbox.unknown_identity",
            object_type="eevidence_inbox",
            reason="a client certificate of no configured WISP identity",
            details={"endpoint": endpoint[:40]},
            clock=container.clock,
        )


@dataclass(frozen=True)
class TlsFiles:
    certfile: Path  # the listener's server certificate
    keyfile: Path
    client_ca_file: Path  # the CA(s) whose client certificates the handshake accepts


def tls_config(app: Starlette, *, host: str, port: int, tls: TlsFiles) -> uvicorn.Config:
    """uvicorn for the WISP listener: TLS with a required client certificate."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls.certfile),
        ssl_keyfile=str(tls.keyfile),
        ssl_ca_certs=str(tls.client_ca_file),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        http=WispH11Protocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


class WispListener:
    """The WISP listener in a background thread: `start()` returns once it listens."""

    def __init__(self, app: Starlette, *, host: str, port: int, tls: TlsFiles) -> None:
        self.server = uvicorn.Server(tls_config(app, host=host, port=port, tls=tls))
        self.thread = threading.Thread(target=self.server.run, name="wisp-listener", daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self.thread.start()
        waited = 0.0
        while not self.server.started and waited < timeout_s:
            threading.Event().wait(0.02)
            waited += 0.02
        if not self.server.started:
            raise RuntimeError("the WISP listener did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def listener_from_settings(container: Container) -> WispListener:
    """The WISP listener as the settings describe it (`wisp_listen_*`, `wisp_server_*`,
    `wisp_client_ca_file`); refused when a file is missing: no listener without mutual TLS."""
    settings = container.settings
    files = (settings.wisp_server_cert_file, settings.wisp_server_key_file, settings.wisp_client_ca_file)
    if any(f is None for f in files):
        raise InvalidInput(
            "Set wisp_server_cert_file, wisp_server_key_file and wisp_client_ca_file: the WISP listener needs mutual TLS."
        )
    cert, key, ca = (Path(f) for f in files if f is not None)
    app = create_wisp_app(container)
    return WispListener(app, host=settings.wisp_listen_host, port=settings.wisp_listen_port, tls=TlsFiles(cert, key, ca))
