"""A double of the EU DSA Transparency Database's API, served over real HTTP on loopback. It
judges statements as the in-memory twin does (`InMemoryDsaDatabase.check`, with the published
rules of `safety.enforcement.dsa.validate_statement`), so the two adapters meet one database.
`dsa_backend` gives either adapter, ready to use, with a look inside what it talks to."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from trustdesk.core.dsa_database import MAX_BATCH, DsaDatabase, HttpDsaDatabase, InMemoryDsaDatabase
from trustdesk.safety.enforcement.dsa import validate_statement

TOKEN = "test-token-0123456789"
BACKENDS = ("http", "memory")  # the HTTP adapter against the double, and the in-memory twin


def double_app(*, token: str) -> FastAPI:
    """The API as the published rules describe it: 401 without the token, 201 with uuids,
    422 with an `errors` map (keys `statements.<i>.<field>` in batches), nothing stored
    unless the whole call is valid. `app.state.unavailable` answers `app.state.busy_status`
    (503) with `Retry-After: app.state.retry_after` (0) that many times; `app.state.store`
    is puid -> uuid of what it holds."""
    app = FastAPI()
    twin = InMemoryDsaDatabase(rules=validate_statement)
    app.state.twin, app.state.store, app.state.calls = twin, twin.known, []
    app.state.unavailable, app.state.busy_status, app.state.retry_after = 0, 503, "0"

    def guard(request: Request) -> Response | None:
        app.state.calls.append(request.url.path)
        if request.headers.get("Authorization") != f"Bearer {token}":
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        if app.state.unavailable > 0:
            app.state.unavailable -= 1
            headers = {"Retry-After": app.state.retry_after}
            return JSONResponse({"message": "Service Unavailable"}, status_code=app.state.busy_status, headers=headers)
        return None

    def check(statements: list[Any], prefix: Callable[[int], str]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for index, own in enumerate(twin.check(statements)):
            errors.update({prefix(index) + name: messages for name, messages in own.items()})
        return errors

    def store(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**statement, "uuid": twin.keep(statement)} for statement in statements]

    @app.post("/api/v1/statement")
    async def one(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        body = await request.json()
        errors = check([body], lambda _: "")
        if errors:
            return JSONResponse({"message": "The given data was invalid.", "errors": errors}, status_code=422)
        return JSONResponse(store([body])[0], status_code=201)

    @app.post("/api/v1/statements")
    async def many(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        body = await request.json()
        batch = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
            errors = {"statements": [f"The statements field must be an array of 1 to {MAX_BATCH} statements."]}
        else:
            errors = check(batch, lambda i: f"statements.{i}.")
        if errors:
            return JSONResponse({"message": "The given data was invalid.", "errors": errors}, status_code=422)
        return JSONResponse({"statements": store(batch)}, status_code=201)

    @app.get("/api/v1/statement/existing-puid/{puid}")
    def existing(puid: str, request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        if puid in app.state.store:
            return Response(status_code=302, headers={"Location": f"/api/v1/statement/{app.state.store[puid]}"})
        return JSONResponse({"message": "statement not found"}, status_code=404)

    return app


@contextmanager
def serve_double(*, token: str) -> Iterator[tuple[str, FastAPI]]:
    """Run the double on a free loopback port in a thread; yields (base_url, app)."""
    app = double_app(token=token)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.025)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class DsaBackend:
    """One adapter and the database behind it: `held` (puid -> uuid), how many batches it took,
    and for the HTTP one the double's app (to make it busy) and the waits between retries."""

    kind: str
    database: DsaDatabase
    twin: InMemoryDsaDatabase
    batches: Callable[[], int]
    app: FastAPI | None = None
    url: str = ""
    sleeps: list[float] = field(default_factory=list)

    @property
    def held(self) -> dict[str, str]:
        return self.twin.known


@contextmanager
def dsa_backend(kind: str) -> Iterator[DsaBackend]:
    """kind 'memory': the twin with the published rules; 'http': the HTTP adapter (backoff
    0.25 s, waits recorded, not slept) talking to the double over loopback."""
    if kind == "memory":
        twin = InMemoryDsaDatabase(rules=validate_statement)
        yield DsaBackend(kind, twin, twin, lambda: len(twin.batches))
        return
    with serve_double(token=TOKEN) as (url, app):
        sleeps: list[float] = []
        database = HttpDsaDatabase(base_url=url, token=TOKEN, sleep=sleeps.append, backoff=0.25)
        yield DsaBackend(kind, database, app.state.twin, lambda: app.state.calls.count("/api/v1/statements"), app, url, sleeps)
