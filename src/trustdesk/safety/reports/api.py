"""Notices API: anyone may send a notice (a trusted flagger sends it with its token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from trustdesk.core.audit import Actor
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, optional_principal, require
from trustdesk.safety.reports import service
from trustdesk.safety.reports.reasons import load_reasons
from trustdesk.safety.reports.schemas import (
    NoticeCreate,
    NoticeReceipt,
    ReportReasonRead,
    TrustedFlaggerCreate,
    TrustedFlaggerRead,
)

router = APIRouter(tags=["notices"])
Manager = Annotated[Principal, Depends(require(Permission.REVIEW_MANAGE))]


@router.get("/report-reasons", response_model=list[ReportReasonRead])
def report_reasons() -> list[ReportReasonRead]:
    return [
        ReportReasonRead(key=r.key, group=r.group, label=r.label, anonymous_allowed=r.anonymous_allowed)
        for r in load_reasons().values()
    ]


@router.post("/notices", response_model=NoticeReceipt, status_code=201)
def submit_notice(
    body: NoticeCreate,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> NoticeReceipt:
    """Receipt confirmed in the answer: keep `token` to follow the notice at GET /notices/{token}."""
    flagger = (
        service.flagger_for(session, principal=principal) if principal and principal.can(Permission.NOTICES_SUBMIT) else None
    )
    actor = actor_of(request, principal) if principal else Actor("public", "notifier", getattr(request.state, "request_id", None))
    notice = service.submit_notice(
        session, actor=actor, clock=container.clock, platform=container.platform, flagger=flagger, **body.model_dump()
    )
    return NoticeReceipt.model_validate(notice)


@router.get("/notices/{token}", response_model=NoticeReceipt)
def notice_status(token: str, session: SessionDep) -> NoticeReceipt:
    return NoticeReceipt.model_validate(service.notice_by_token(session, token=token))


@router.post("/trusted-flaggers", response_model=TrustedFlaggerRead, status_code=201)
def register_trusted_flagger(
    body: TrustedFlaggerCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> TrustedFlaggerRead:
    flagger = service.register_trusted_flagger(
        session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump()
    )
    return TrustedFlaggerRead.model_validate(flagger)
