"""The privacy page of the console (/console/privacy): the record of processing (GDPR Art. 30)
generated from the data map, for those who may read it; and, for those who handle them, the
rights requests with the reasons staff alone see, a form to take one in, and a retention run.
Thin: parse the form, call the services, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.access.service import Channel
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.privacy import datamap, record, rights
from trustdesk.privacy import export as export_
from trustdesk.privacy.models import RightKind

router = APIRouter(include_in_schema=False)
PAGE = "/console/privacy"
Reader = Annotated[Principal, Depends(require(Permission.PRIVACY_READ))]
Manager = Annotated[Principal, Depends(require(Permission.PRIVACY_MANAGE))]
Text = Annotated[str, Form()]


def _page(
    request: Request, session: Session, container: Container, principal: Principal, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    manages = principal.can(Permission.PRIVACY_MANAGE)
    return render(
        request,
        "console/privacy/index.html",
        status_code=status_code,
        active="privacy",
        record=record.document(datamap.load(), container.settings),
        requests=rights.list_requests(session, principal=principal) if manages else [],
        manages=manages,
        kinds=list(RightKind),
        **{"values": {}, **extra},
    )


@router.get(PAGE, response_class=HTMLResponse)
def index(request: Request, session: SessionDep, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return _page(request, session, container, principal)


@router.get(PAGE + "/record.md", response_class=PlainTextResponse)
def record_document(container: ContainerDep, _: Reader) -> PlainTextResponse:
    return PlainTextResponse(record.markdown(datamap.load(), container.settings), media_type="text/markdown")


@router.post(PAGE + "/requests", response_model=None)
def receive(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    kind: Text,
    account_id: Text,
    note: Text = "",
) -> Response:
    try:
        with session.begin_nested():
            outcome = rights.receive(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                principal=principal,
                kind=kind,  # type: ignore[arg-type]  # checked by the service: a bad one is a 422 on the page
                account_id=account_id,
                note=note,
                platform=container.platform,
            )
    except TrustdeskError as exc:
        values = {"kind": kind, "account_id": account_id, "note": note}
        return _page(request, session, container, principal, status_code=exc.status, error=exc.detail, values=values)
    return RedirectResponse(f"{PAGE}#request-{outcome.request.id}", status_code=303)


@router.post(PAGE + "/requests/{request_id:int}/retry", response_model=None)
def retry(request_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> Response:
    try:
        with session.begin_nested():
            rights.retry(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                principal=principal,
                request_id=request_id,
                platform=container.platform,
            )
    except TrustdeskError as exc:
        return _page(request, session, container, principal, status_code=exc.status, error=exc.detail)
    return RedirectResponse(f"{PAGE}#request-{request_id}", status_code=303)


@router.get(PAGE + "/requests/{request_id:int}/export.md", response_class=PlainTextResponse)
def export(request_id: RowId, session: SessionDep, container: ContainerDep, principal: Manager) -> PlainTextResponse:
    document = rights.export_of(
        session,
        principal=principal,
        request_id=request_id,
        clock=container.clock,
        channel=Channel.CONSOLE,
        platform=container.platform,
    )
    return PlainTextResponse(export_.markdown(document), media_type="text/markdown")
