"""A double of the EU DSA Transparency Database's API, served over real HTTP on loopback. It
judges statements as the in-memory twin does (`InMemoryDsaDatabase.check`, with the published
rules of `safety.enforcement.dsa.validate_statement`), so the two adapters meet one database,
and it keeps the API's limits: at most 100 statements a batch, a puid once per platform (a
batch whose only fault is puids it already holds is refused as the API does, listing them in
`errors.existing_puids`), and the account's rate limits (429 with Retry-After past them).
`dsa_backend` gives either adapter, ready to use, with a look inside what it talks to;
`python -m tests.doubles.dsa_database PORT` serves it on its own (the benchmark's database)."""

from __future__ import annotations

import math
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from trustdesk.core.dsa_database import MAX_BATCH, NOT_UNIQUE, DsaDatabase, HttpDsaDatabase, InMemoryDsaDatabase
from trustdesk.core.dsa_database.limits import PER_MINUTE, PER_SECOND
from trustdesk.safety.enforcement.dsa import validate_statement

TOKEN = "test-token-0123456789"
BACKENDS = ("http", "memory")  # the HTTP adapter against the double, and the in-memory twin


class Throttle:
    """The account's rate limits as the service keeps them: sliding windows of 1 s and 60 s."""

    def __init__(self, per_second: int, per_minute: int) -> None:
        self.windows = ((1.0, per_second, deque[float]()), (60.0, per_minute, deque[float]()))
        self.refused = 0

    def retry_after(self) -> float:
        """0 when one more request fits (and it is counted), else the seconds until it would."""
        at, wait = time.monotonic(), 0.0
        for span, limit, times in self.windows:
            while times and times[0] <= at - span:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, times[0] + span - at)
        if wait > 0:
            self.refused += 1
            return wait
        for _, _, times in self.windows:
            times.append(at)
        return 0.0


def double_app(*, token: str, per_second: int = PER_SECOND, per_minute: int = PER_MINUTE) -> FastAPI:
    """The API as the published rules describe it: 401 without the token, 201 with uuids,
    422 with an `errors` map (keys `statements.<i>.<field>` in batches, or `puid` and
    `existing_puids` when held puids are all that is wrong), nothing stored unless the whole
    call is valid, 429 past the rate limits. `app.state.unavailable` answers
    `app.state.busy_status` (503) with `Retry-After: app.state.retry_after` (0) that many
    times; `app.state.store` is puid -> uuid of what it holds; `app.state.throttle.refused`
    counts the 429s; `app.state.duplicates` the statements refused for a held puid."""
    app = FastAPI()
    twin = InMemoryDsaDatabase(rules=validate_statement)
    app.state.twin, app.state.store, app.state.calls = twin, twin.known, []
    app.state.unavailable, app.state.busy_status, app.state.retry_after = 0, 503, "0"
    app.state.throttle, app.state.duplicates, app.state.sizes = Throttle(per_second, per_minute), 0, []

    def guard(request: Request) -> Response | None:
        app.state.calls.append(request.url.path)
        if request.headers.get("Authorization") != f"Bearer {token}":
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        wait = app.state.throttle.retry_after()
        if wait > 0:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return JSONResponse({"message": "Limit Reached. Please do not overload the API"}, status_code=429, headers=headers)
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
            errors: dict[str, Any] = {"statements": [f"The statements field must be an array of 1 to {MAX_BATCH} statements."]}
        else:
            errors = check(batch, lambda i: f"statements.{i}.")
            held = [batch[int(k.split(".")[1])]["puid"] for k, v in errors.items() if k.endswith(".puid") and v == [NOT_UNIQUE]]
            app.state.duplicates += len(held)
            if held and len(held) == len(errors):  # only held puids are wrong: the API lists them
                message = "The platform identifier(s) are not all unique within this call."
                errors = {"puid": [message], "existing_puids": held}
        if errors:
            return JSONResponse({"message": "The given data was invalid.", "errors": errors}, status_code=422)
        app.state.sizes.append(len(batch))
        return JSONResponse({"statements": store(batch)}, status_code=201)

    @app.get("/_double/stats")
    def stats() -> dict[str, Any]:
        """Not the API's: what the double holds, for the benchmark's count of lost and doubled."""
        sizes = app.state.sizes
        return {
            "held": len(app.state.store),
            "duplicates_refused": app.state.duplicates,
            "throttled": app.state.throttle.refused,
            "batches": len(sizes),
            "largest_batch": max(sizes, default=0),
        }

    @app.get("/api/v1/statement/existing-puid/{puid}")
    def existing(puid: str, request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        if puid in app.state.store:
            return Response(status_code=302, headers={"Location": f"/api/v1/statement/{app.state.store[puid]}"})
        return JSONResponse({"message": "statement not found"}, status_code=404)

    return app


@contextmanager
def serve_double(*, token: str, **limits: int) -> Iterator[tuple[str, FastAPI]]:
    """Run the double on a free loopback port in a thread; yields (base_url, app). `limits`:
    per_second and per_minute, the API's unless given."""
    app = double_app(token=token, **limits)
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


if __name__ == "__main__":  # python -m tests.doubles.dsa_database PORT [TOKEN]
    uvicorn.run(
        double_app(token=sys.argv[2] if len(sys.argv) > 2 else TOKEN),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
    )
