"""The EU DSA Transparency Database: a client that submits statements of reasons in batches
of at most 100 with unique `puid`s, retrying with backoff when the service is busy or away
and keeping 422 rejections (with the API's errors) for a person to fix; a test double of the
API that enforces the published rules (`safety.enforcement.dsa.validate_statement`), served
over real HTTP on loopback; and the submission and export services over our statements."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.models import StatementOfReasons

MAX_BATCH = 100
RETRY_STATUSES = {429, 500, 502, 503, 504}
NOT_UNIQUE = "The identifier given is not unique within this platform."


@dataclass
class BatchOutcome:
    accepted: dict[str, str] = field(default_factory=dict)  # puid -> uuid ('' when already known)
    rejected: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class DsaDatabaseClient:
    """`base_url` like https://transparency.dsa.ec.europa.eu; `token` the platform's API token."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        http: httpx.Client | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep

    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        puids = [s.get("puid") for s in statements]
        if len(set(puids)) != len(puids):
            raise InvalidInput("Two statements share a puid; each must be unique.", field="puid")
        outcome = BatchOutcome()
        for start in range(0, len(statements), MAX_BATCH):
            self._submit_batch(statements[start : start + MAX_BATCH], outcome)
        return outcome

    def exists(self, puid: str) -> bool:
        """GET existing-puid: 302 when the database knows the puid, 404 when not."""
        response = self._send("GET", f"/api/v1/statement/existing-puid/{puid}")
        return response.status_code == 302

    def _submit_batch(self, batch: list[dict[str, Any]], outcome: BatchOutcome) -> None:
        try:
            response = self._send("POST", "/api/v1/statements", json={"statements": batch})
        except httpx.HTTPError as exc:
            outcome.failed.update({s["puid"]: f"no answer after {self.attempts} tries: {type(exc).__name__}" for s in batch})
            return
        if response.status_code == 201:
            for item in response.json().get("statements", []):
                outcome.accepted[item["puid"]] = item.get("uuid", "")
            return
        if response.status_code != 422:
            outcome.failed.update({s["puid"]: f"HTTP {response.status_code}: {response.text[:200]}" for s in batch})
            return
        self._split_rejection(batch, response.json().get("errors", {}), outcome)

    def _split_rejection(self, batch: list[dict[str, Any]], errors: dict[str, list[str]], outcome: BatchOutcome) -> None:
        """A 422 refuses the whole batch: keep each statement's own errors, treat a puid the
        database already holds (an earlier try that timed out) as accepted, resend the rest."""
        per_index: dict[int, dict[str, list[str]]] = {}
        for key, messages in errors.items():
            match = re.match(r"statements\.(\d+)\.(.+)", key)
            if match:
                per_index.setdefault(int(match[1]), {})[match[2]] = messages
        if not per_index:
            outcome.failed.update({s["puid"]: f"rejected without per-statement errors: {errors}" for s in batch})
            return
        rest = []
        for index, statement in enumerate(batch):
            own = per_index.get(index)
            if own is None:
                rest.append(statement)
            elif set(own) == {"puid"} and own["puid"] == [NOT_UNIQUE] and self.exists(statement["puid"]):
                outcome.accepted[statement["puid"]] = ""
            else:
                outcome.rejected[statement["puid"]] = own
        if rest:
            self._submit_batch(rest, outcome)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Retry a busy or unreachable service with exponential backoff (honouring Retry-After)."""
        for attempt in range(self.attempts):
            try:
                response = self.http.request(method, path, headers=self.headers, follow_redirects=False, **kwargs)
            except httpx.TransportError:
                if attempt == self.attempts - 1:
                    raise
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code not in RETRY_STATUSES or attempt == self.attempts - 1:
                return response
            self.sleep(_retry_after(response) or self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


# -- submission and export over our statements ------------------------------------------------


@dataclass(frozen=True)
class SubmissionSummary:
    submitted: int
    rejected: int
    failed: int


def submit_pending(
    session: Session, *, actor: Actor, clock: Clock, client: DsaDatabaseClient, limit: int = 1000
) -> SubmissionSummary:
    rows = list(
        session.scalars(
            select(StatementOfReasons)
            .where(StatementOfReasons.dsa_state == "pending")
            .order_by(StatementOfReasons.id)
            .limit(limit)
        )
    )
    outcome = client.submit([row.payload for row in rows])
    now = clock.now()
    for row in rows:
        row.dsa_attempts += 1
        if row.puid in outcome.accepted:
            row.dsa_state, row.dsa_uuid, row.dsa_errors, row.dsa_submitted_at = (
                "submitted",
                outcome.accepted[row.puid] or None,
                None,
                now,
            )
        elif row.puid in outcome.rejected:
            row.dsa_state, row.dsa_errors = "rejected", outcome.rejected[row.puid]
        else:
            row.dsa_errors = {"transport": [outcome.failed.get(row.puid, "no answer")]}
    summary = SubmissionSummary(len(outcome.accepted), len(outcome.rejected), len(outcome.failed))
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.submit",
        object_type="statement_of_reasons",
        details={"submitted": summary.submitted, "rejected": summary.rejected, "failed": summary.failed},
    )
    return summary


def rejected_statements(session: Session) -> list[StatementOfReasons]:
    return list(
        session.scalars(
            select(StatementOfReasons).where(StatementOfReasons.dsa_state == "rejected").order_by(StatementOfReasons.id)
        )
    )


def revise_statement(
    session: Session, *, actor: Actor, clock: Clock, statement_id: int, payload: dict[str, Any]
) -> StatementOfReasons:
    """A person's fix of a rejected statement: checked by the same rules, then queued again."""
    row = session.get(StatementOfReasons, statement_id)
    if row is None:
        raise NotFound(f"No statement {statement_id}.")
    if payload.get("puid") != row.puid:
        raise InvalidInput(f"The puid must stay {row.puid}.", field="puid")
    errors = validate_statement(payload)
    if errors:
        raise InvalidInput("The statement still breaks the database's rules.", errors=errors)
    row.payload, row.dsa_state, row.dsa_errors = payload, "pending", None
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.revise",
        object_type="statement_of_reasons",
        object_id=row.id,
        change=payload,
        details={"puid": row.puid},
    )
    return row


def statements_in(session: Session, *, start: datetime, end: datetime) -> Iterator[StatementOfReasons]:
    query = select(StatementOfReasons).where(StatementOfReasons.told_at >= start, StatementOfReasons.told_at < end)
    yield from session.scalars(query.order_by(StatementOfReasons.told_at, StatementOfReasons.id).execution_options(yield_per=500))


def as_json_line(statement: StatementOfReasons) -> str:
    return json.dumps(statement.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- the test double ----------------------------------------------------------------------------


def double_app(*, token: str) -> FastAPI:
    """The API as the published rules describe it: 401 without the token, 201 with uuids,
    422 with an `errors` map (keys `statements.<i>.<field>` in batches), nothing stored
    unless the whole call is valid. `app.state.unavailable` answers 503 that many times."""
    app = FastAPI()
    app.state.store, app.state.unavailable, app.state.calls = {}, 0, []

    def guard(request: Request) -> Response | None:
        app.state.calls.append(request.url.path)
        if request.headers.get("Authorization") != f"Bearer {token}":
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        if app.state.unavailable > 0:
            app.state.unavailable -= 1
            return JSONResponse({"message": "Service Unavailable"}, status_code=503, headers={"Retry-After": "0"})
        return None

    def check(statements: list[Any], prefix: Callable[[int], str]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        seen: set[str] = set()
        for index, statement in enumerate(statements):
            own = validate_statement(statement)
            puid = statement.get("puid") if isinstance(statement, dict) else None
            if isinstance(puid, str) and (puid in app.state.store or puid in seen):
                own.setdefault("puid", []).append(NOT_UNIQUE)
            seen.add(puid if isinstance(puid, str) else "")
            errors.update({prefix(index) + name: messages for name, messages in own.items()})
        return errors

    def store(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        created = []
        for statement in statements:
            app.state.store[statement["puid"]] = new = str(uuid.uuid4())
            created.append({**statement, "uuid": new})
        return created

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
        if errors or not isinstance(batch, list):  # not a list: errors says so
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
