"""The privacy API under /api/v1/privacy: rights requests and their exports, retention runs,
the data map and the record of processing. Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from trustdesk.core.access.service import Channel
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require, require_outside_transaction
from trustdesk.privacy import datamap, record, retention, rights
from trustdesk.privacy import export as export_
from trustdesk.privacy.schemas import AccountRef, RetentionRun, RightsRequestCreate, RightsRequestRead

router = APIRouter(prefix="/privacy", tags=["privacy"])
Manager = Annotated[Principal, Depends(require(Permission.PRIVACY_MANAGE))]
Reader = Annotated[Principal, Depends(require(Permission.PRIVACY_READ))]
MARKDOWN: dict[int | str, dict[str, Any]] = {200: {"content": {"text/markdown": {}}, "description": "The document as Markdown."}}


@router.post("/requests", response_model=RightsRequestRead, status_code=201)
def receive(body: RightsRequestCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> Any:
    outcome = rights.receive(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        kind=body.kind,
        account_id=body.account_id,
        note=body.note,
        platform=container.platform,
    )
    return outcome.request


@router.get("/requests", response_model=list[RightsRequestRead])
def list_requests(session: SessionDep, principal: Manager) -> Any:
    return rights.list_requests(session, principal=principal)


@router.get("/requests/{request_id}", response_model=RightsRequestRead)
def get_request(request_id: RowId, session: SessionDep, principal: Manager) -> Any:
    return rights.get(session, principal=principal, request_id=request_id)


@router.post("/requests/{request_id}/retry", response_model=RightsRequestRead)
def retry(request_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> Any:
    outcome = rights.retry(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        platform=container.platform,
    )
    return outcome.request


@router.get("/requests/{request_id}/export")
def export(request_id: RowId, session: SessionDep, container: ContainerDep, principal: Manager) -> dict[str, Any]:
    """The access request's export as data (never a lawful request under a gag)."""
    return rights.export_of(
        session,
        principal=principal,
        request_id=request_id,
        clock=container.clock,
        channel=Channel.API,
        platform=container.platform,
    )


@router.get("/requests/{request_id}/export.md", response_class=PlainTextResponse, responses=MARKDOWN)
def export_markdown(request_id: RowId, session: SessionDep, container: ContainerDep, principal: Manager) -> PlainTextResponse:
    document = rights.export_of(
        session,
        principal=principal,
        request_id=request_id,
        clock=container.clock,
        channel=Channel.API,
        platform=container.platform,
    )
    return PlainTextResponse(export_.markdown(document), media_type="text/markdown")


@router.post("/restrictions/lift", status_code=204)
def lift(body: AccountRef, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> None:
    rights.lift_restriction(
        session, actor=actor_of(request, principal), clock=container.clock, principal=principal, account_id=body.account_id
    )


@router.post("/retention/run")
def run_retention(
    body: RetentionRun,
    request: Request,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(require_outside_transaction(Permission.PRIVACY_MANAGE))],
) -> dict[str, Any]:
    """One retention run now, committed before the answer (the files after the commit)."""
    report = retention.run(
        container.db,
        clock=container.clock,
        blobs=container.blobs,
        settings=container.settings,
        actor=actor_of(request, principal),
        dry_run=body.dry_run,
        platform=container.platform,
    )
    return report.as_dict()


@router.get("/record")
def processing_record(container: ContainerDep, _: Reader) -> dict[str, Any]:
    """The record of processing activities (GDPR Art. 30), generated from the data map."""
    return record.document(datamap.load(), container.settings)


@router.get("/record.md", response_class=PlainTextResponse, responses=MARKDOWN)
def processing_record_markdown(container: ContainerDep, _: Reader) -> PlainTextResponse:
    return PlainTextResponse(record.markdown(datamap.load(), container.settings), media_type="text/markdown")
