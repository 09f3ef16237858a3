"""The emergency lane's API under /api/v1/emergency. Thin: parse, call the lane, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from trustdesk.core.errors import Conflict
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.emergency import flows, removal, service
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.schemas import (
    LaneFailureRead,
    Note,
    OverviewRead,
    PersonRemoval,
    RemovalRead,
    RemovalRow,
    ThreatCreate,
    ThreatRead,
    ThreatSend,
)
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require

router = APIRouter(prefix="/emergency", tags=["emergency lane"])
Handler = Annotated[Principal, Depends(require(Permission.EMERGENCY_HANDLE))]


def _lane(container: Container) -> removal.Lane:
    lane = lane_runner.lane_of(container)
    if lane is None:
        raise Conflict("No platform adapter is configured: the lane cannot act.")
    return lane


def _row(row: service.RemovalRow) -> RemovalRow:
    return RemovalRow(
        removal=RemovalRead.model_validate(row.removal),
        reference=row.reference,
        time_left=row.time_left,
        overdue=row.overdue,
        waiting_for=list(row.waiting_for),
    )


@router.get("", response_model=OverviewRead)
def overview(session: SessionDep, container: ContainerDep, _: Handler) -> OverviewRead:
    view = service.overview(session, now=container.clock.now())
    return OverviewRead(
        removals=[_row(r) for r in view.removals],
        threats=[ThreatRead.model_validate(t) for t in view.threats],
        open_pages=len(view.pages),
        lane_failures=[LaneFailureRead.model_validate(f) for f in view.failures],
    )


@router.post("/removals/{removal_id}/confirm", response_model=RemovalRead)
def confirm(
    removal_id: RowId, body: Note, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> RemovalRead:
    done = removal.confirm(
        session,
        clock=container.clock,
        actor=actor_of(request, principal),
        principal=principal,
        removal_id=removal_id,
        note=body.note,
    )
    return RemovalRead.model_validate(done)


@router.post("/removals/{removal_id}/remove", response_model=RemovalRead)
def remove(
    removal_id: RowId, body: PersonRemoval, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> RemovalRead:
    done = flows.remove_by_person(
        session,
        lane=_lane(container),
        actor=actor_of(request, principal),
        principal=principal,
        removal_id=removal_id,
        reason=body.reason,
    )
    return RemovalRead.model_validate(done)


@router.post("/threats", response_model=ThreatRead, status_code=201)
def open_threat(
    body: ThreatCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> ThreatRead:
    case = ttl.open_case(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return ThreatRead.model_validate(case)


@router.post("/threats/{case_id}/send", response_model=ThreatRead)
def send_threat(
    case_id: RowId, body: ThreatSend, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> ThreatRead:
    case = ttl.confirm_and_send(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        case_id=case_id,
        draft=body.draft,
        note=body.note,
    )
    return ThreatRead.model_validate(case)


@router.post("/threats/{case_id}/dismiss", response_model=ThreatRead)
def dismiss_threat(
    case_id: RowId, body: Note, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> ThreatRead:
    case = ttl.dismiss(
        session, actor=actor_of(request, principal), clock=container.clock, principal=principal, case_id=case_id, note=body.note
    )
    return ThreatRead.model_validate(case)
