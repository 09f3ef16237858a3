"""The pipeline's API: submit events (one or a batch), see what became of one, list and
replay dead letters, see the rules in force and backtest a rule file. Thin: parse, call
the services, map errors (the problem-details handler does that)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.safety.pipeline import deadletters, ingest
from trustdesk.safety.pipeline.events import Event
from trustdesk.safety.pipeline.metrics import PipelineCollector
from trustdesk.safety.pipeline.models import HandledEvent, RuleHit
from trustdesk.safety.pipeline.runtime import runtime_for
from trustdesk.safety.rules.backtest import run_backtest
from trustdesk.safety.rules.language import parse_rules


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Connect the bus; in the embedded mode also run the worker in the server's loop
    (unless `container.pipeline.autostart` is False, as in tests)."""
    container = app.state.container
    runtime = runtime_for(container)
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.registry.register(PipelineCollector(container))
    await runtime.start(run_worker=runtime.embedded and container.pipeline.autostart)
    try:
        yield
    finally:
        await runtime.stop()


router = APIRouter(tags=["pipeline"], lifespan=lifespan)
Ingester = Annotated[Principal, Depends(require(Permission.EVENTS_INGEST))]
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
RuleManager = Annotated[Principal, Depends(require(Permission.RULES_MANAGE))]


class Accepted(BaseModel):
    accepted: int
    ids: list[str]


class EventStatus(BaseModel):
    event_id: str
    handled: bool
    handled_at: datetime | None = None
    verdicts: list[str] = []
    hits: list[dict[str, Any]] = []


def _events_in(body: bytes, *, max_batch: int) -> list[Event]:
    """The body's events, decoded and validated: CPU work (a batch holds up to `max_batch`),
    so the route runs it in the CPU pool, not on the event loop."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The body is not JSON: {exc}.") from exc
    items = value["events"] if isinstance(value, dict) and "events" in value else [value]
    if not isinstance(items, list):
        raise InvalidInput("'events' must be a list of events.")
    return ingest.validate(items, max_batch=max_batch)


EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": 'One event (a JSON object with `kind`), or a batch: `{"events": [...]}`.'}
        }
    },
}


@router.post("/pipeline/events", status_code=202, response_model=Accepted, openapi_extra={"requestBody": EVENTS_BODY})
async def submit_events(request: Request, container: ContainerDep, _: Ingester) -> Accepted:
    """One event (a JSON object with `kind`), or a batch: `{"events": [...]}`. A batch with
    any invalid event is refused whole; nothing is published. While more events wait on the
    bus than `pipeline_max_backlog`, the answer is 429 with `Retry-After`, before the body is read."""
    runtime = runtime_for(container)
    await runtime.backpressure.admit()
    events = await container.cpu.run(_events_in, await request.body(), max_batch=container.settings.pipeline_max_batch)
    ids = await ingest.submit(runtime.bus, events)
    runtime.backpressure.accepted(len(ids))
    return Accepted(accepted=len(ids), ids=ids)


@router.get("/pipeline/events/{event_id}", response_model=EventStatus)
def event_status(event_id: str, session: SessionDep, _: Reader) -> EventStatus:
    row = session.get(HandledEvent, event_id)
    if row is None:
        return EventStatus(event_id=event_id, handled=False)
    hits = session.scalars(select(RuleHit).where(RuleHit.event_id == event_id).order_by(RuleHit.id))
    return EventStatus(
        event_id=event_id,
        handled=True,
        handled_at=row.handled_at,
        verdicts=row.verdicts,
        hits=[{"rule": h.rule, "rule_version": h.rule_version, "shadow": h.shadow, "effects": h.effects} for h in hits],
    )


@router.get("/pipeline/dead-letters")
def list_dead_letters(session: SessionDep, _: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    return [
        {"id": d.id, "event_id": d.event_id, "subject": d.subject, "error": d.error, "attempts": d.attempts, "at": d.at}
        for d in deadletters.waiting(session, limit=limit)
    ]


@router.post("/pipeline/dead-letters/{dead_letter_id}/replay")
def replay_dead_letter(
    dead_letter_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: RuleManager
) -> dict[str, Any]:
    row = deadletters.replay_from_thread(
        session,
        bus=runtime_for(container).bus,
        actor=actor_of(request, principal),
        clock=container.clock,
        dead_letter_id=dead_letter_id,
    )
    return {"id": row.id, "replayed_at": row.replayed_at}


@router.get("/rules")
def rules_in_force(container: ContainerDep, _: Reader) -> dict[str, Any]:
    book = runtime_for(container).book
    book.reload()  # show the files as they are now, not as of the last periodic check
    status = book.status()
    return {
        "version": status.ruleset_version,
        "files": status.files,
        "problems": [str(p) for p in status.problems],
        "rules": [{"ref": r.ref, "mode": r.mode, "description": r.description, "line": r.line} for r in book.current().rules],
    }


class BacktestRequest(BaseModel):
    source: str
    since: datetime | None = None
    until: datetime | None = None


@router.post("/rules/backtest")
def backtest(
    body: BacktestRequest, request: Request, session: SessionDep, container: ContainerDep, principal: RuleManager
) -> dict[str, Any]:
    """Run the rule file in `source` over stored events; refuses a file with any problem."""
    rule_file = parse_rules(body.source, path="<submitted>")
    if rule_file.problems:
        raise InvalidInput(
            "The rules have problems: " + "; ".join(str(p) for p in rule_file.problems),
            problems=[str(p) for p in rule_file.problems],
        )
    runtime = runtime_for(container)
    row = run_backtest(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        rule_file=rule_file,
        since=body.since,
        until=body.until,
        hashes=runtime.handler.hashes,
    )
    return {"id": row.id, "events": row.events, "results": row.results}
