"""The HTTP side of the Synapse module (/connector/matrix): pre-send checks and the event
stream. Thin: parse, call the services, answer. Authenticated by an API token holding
`events:ingest`.

It lives in safety, not in platform/matrix, because every call ends in safety's work: the
content screen (the rules pipeline's to replace), the hash banks that remember uploads for
retroaction (`banks/matrix.py`), and the import of Synapse's user reports into review that its
lifespan runs (`reports/matrix.py`). The Matrix side (`platform/matrix/`: the adapter, the
event log and its screen, the Synapse module) imports no safety module; safety may import
platform, the domain below it (tests/test_layering.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import MAX_BIG_ID
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require, require_outside_transaction
from trustdesk.platform.matrix import service
from trustdesk.platform.matrix.screen import ContentScreen, ListScreen
from trustdesk.safety.banks import matrix as banks_matrix
from trustdesk.safety.banks.matcher import MatchService, shared_matcher
from trustdesk.safety.reports import matrix as matrix_reports

# The router brings the server its report import (platform = matrix, matrix_reports_every_s).
router = APIRouter(prefix="/connector/matrix", tags=["connector: matrix"], lifespan=matrix_reports.server_lifespan)
Ingestor = Annotated[Principal, Depends(require(Permission.EVENTS_INGEST))]
HashingIngestor = Annotated[Principal, Depends(require_outside_transaction(Permission.EVENTS_INGEST))]
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds


class EventIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_id: str = Field(min_length=2, max_length=255)
    room_id: str = Field(min_length=2, max_length=255)
    sender: str = Field(min_length=2, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    origin_server_ts: int = Field(ge=0, le=LAST_MS)  # milliseconds since the epoch
    content: dict[str, Any] = Field(default_factory=dict)
    unchecked: bool = False


class MediaIn(BaseModel):
    media_id: str = Field(min_length=1, max_length=255)
    server_name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    size: int = Field(ge=0, le=MAX_BIG_ID)
    data_b64: str | None = None


class EventsIn(BaseModel):
    events: list[EventIn] = Field(max_length=1000)


class VerdictOut(BaseModel):
    verdict: str
    reason: str


class IngestOut(BaseModel):
    received: int
    duplicates: int
    removed: list[str]


def content_screen(container: Container) -> ContentScreen:
    """The screen in force: one put in the container (the rules pipeline, or a test's list),
    else an empty list that allows everything."""
    if container.content_screen is None:
        container.content_screen = ListScreen()
    return container.content_screen


def bank_matcher(container: Container) -> MatchService:
    """The process's hash-bank matcher (the one the banks API uses)."""
    return shared_matcher(container)


@router.post("/check", response_model=VerdictOut)
def check(body: EventIn, request: Request, session: SessionDep, container: ContainerDep, principal: Ingestor) -> VerdictOut:
    verdict = service.check_event(
        session,
        screen=content_screen(container),
        event=body.model_dump(),
        actor=actor_of(request, principal),
        clock=container.clock,
    )
    return VerdictOut(verdict=verdict.name, reason=verdict.reason)


@router.post("/media-check", response_model=VerdictOut)
def media_check(
    body: MediaIn, request: Request, session: SessionDep, container: ContainerDep, principal: HashingIngestor
) -> VerdictOut:
    """The upload is hashed first, in the CPU pool and before the request's transaction
    begins (the caller is checked in a short one of its own), as the banks' lookup does."""
    media, actor = body.model_dump(), actor_of(request, principal)
    hashes = banks_matrix.hash_upload(media, cpu=container.hashing)
    verdict = service.check_media(session, screen=content_screen(container), media=media, actor=actor, clock=container.clock)
    if not verdict.block:
        banks_matrix.remember_upload(
            session,
            matcher=bank_matcher(container),
            media=media,
            hashes=hashes,
            actor=actor,
            clock=container.clock,
            pager=container.pager,
        )
    return VerdictOut(verdict=verdict.name, reason=verdict.reason)


@router.post("/events", response_model=IngestOut)
def events(body: EventsIn, request: Request, session: SessionDep, container: ContainerDep, principal: Ingestor) -> IngestOut:
    events, actor = [e.model_dump() for e in body.events], actor_of(request, principal)
    result = service.ingest_events(
        session, events=events, screen=content_screen(container), platform=container.platform, actor=actor, clock=container.clock
    )
    banks_matrix.remember_posted_media(
        session,
        matcher=bank_matcher(container),
        events=events,
        platform=container.platform,
        actor=actor,
        clock=container.clock,
        pager=container.pager,
        cpu=container.hashing,
    )
    return IngestOut(received=result.received, duplicates=result.duplicates, removed=result.removed)
