"""Enforcement API: an account's record (actions, strikes), the user's statement of reasons,
CyberTipline drafts, DSA statements waiting for a person (rejected by the database or held by
our own checks) and the DSA outbox's backlog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.core.urls import Audience, absolute
from trustdesk.http.access import PersonView, person_view, record_view
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.safety.access import ACCOUNT, account_checks, tipline_views
from trustdesk.safety.enforcement import cybertipline, dsa_submission, strikes
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.metrics import DsaOutboxCollector
from trustdesk.safety.enforcement.schemas import (
    AccountRecord,
    ActionRead,
    DsaBacklogRead,
    DsaRevision,
    DsaStatementRead,
    StatementRead,
    StrikeRead,
    TiplineFiled,
    TiplineRead,
)
from trustdesk.safety.enforcement.statements import render


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The DSA outbox's figures join the app's `/metrics`."""
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.registry.register(DsaOutboxCollector(app.state.container))
    yield


router = APIRouter(tags=["enforcement"], lifespan=lifespan)
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
Filer = Annotated[Principal, Depends(require(Permission.CYBERTIPLINE_FILE))]
Publisher = Annotated[Principal, Depends(require(Permission.TRANSPARENCY_PUBLISH))]


# A person's record: shown only for a purpose that concerns them, and logged (core/access).
AccountView = Annotated[
    PersonView,
    Depends(
        person_view(
            what="account_record",
            permission=Permission.SAFETY_READ,
            subject_kind=ACCOUNT,
            subject_param="account_id",
            checks=account_checks,
        )
    ),
]


@router.get("/enforcement/accounts/{account_id}", response_model=AccountRecord)
def account_record(account_id: str, session: SessionDep, container: ContainerDep, _: AccountView) -> AccountRecord:
    """An account's strikes and actions. `purpose=case:<id>|appeal:<id>|request:<id>` (a record
    that concerns the account) is required; the view is logged (docs/access-log.md)."""
    return AccountRecord(
        account_id=account_id,
        active_points=strikes.active_points(session, account_id=account_id, now=container.clock.now()),
        strikes=[StrikeRead.model_validate(s) for s in strikes.strikes_for(session, account_id=account_id)],
        actions=[ActionRead.model_validate(a) for a in enforcement.actions_for_account(session, account_id=account_id)],
    )


@router.get("/statements/{token}", response_model=StatementRead)
def statement(
    token: str, request: Request, session: SessionDep, container: ContainerDep, lang: str | None = None
) -> StatementRead:
    """The affected user's statement of reasons, in their language unless `lang` asks otherwise."""
    row = enforcement.statement_by_token(session, token=token)
    language = lang or row.language
    sections = render(
        row.facts,
        language=language,
        appeal_url=absolute(container.settings, Audience.PUBLIC, f"/appeal/{token}", request),
        correction=row.correction,
    )
    return StatementRead(
        puid=row.puid,
        language=language,
        told_at=row.told_at,
        appeal_until=row.appeal_until,
        sections=sections,
        correction=row.correction,
    )


@router.get("/cybertipline/reports", response_model=list[TiplineRead])
def tipline_queue(request: Request, session: SessionDep, container: ContainerDep, principal: Filer) -> list[TiplineRead]:
    """The drafts to file, each an account's data: each is logged as a view (core/access)."""
    reports = cybertipline.filing_queue(session)
    for subject, why, ref in tipline_views(reports):
        record_view(
            request,
            session,
            container,
            principal=principal,
            subjects=[subject],
            what="cybertipline_draft",
            justification=why,
            object_ref=ref,
        )
    return [TiplineRead.model_validate(r) for r in reports]


@router.post("/cybertipline/reports/{report_id}/filed", response_model=TiplineRead)
def tipline_filed(
    report_id: RowId, body: TiplineFiled, request: Request, session: SessionDep, container: ContainerDep, principal: Filer
) -> TiplineRead:
    report = cybertipline.mark_filed(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        report_id=report_id,
        ncmec_report_id=body.ncmec_report_id,
    )
    return TiplineRead.model_validate(report)


@router.get("/transparency/dsa/rejected", response_model=list[DsaStatementRead])
def dsa_rejected(session: SessionDep, _: Publisher) -> list[DsaStatementRead]:
    return [DsaStatementRead.model_validate(s) for s in dsa_submission.rejected_statements(session)]


@router.put("/transparency/dsa/statements/{statement_id}", response_model=DsaStatementRead)
def dsa_revise(
    statement_id: RowId, body: DsaRevision, request: Request, session: SessionDep, container: ContainerDep, principal: Publisher
) -> DsaStatementRead:
    row = dsa_submission.revise_statement(
        session, actor=actor_of(request, principal), clock=container.clock, statement_id=statement_id, payload=body.payload
    )
    return DsaStatementRead.model_validate(row)


@router.get("/transparency/dsa/backlog", response_model=DsaBacklogRead)
def dsa_backlog(session: SessionDep, container: ContainerDep, _: Publisher) -> DsaBacklogRead:
    found = dsa_submission.backlog(session)
    age = (container.clock.now() - found.oldest_pending_at).total_seconds() if found.oldest_pending_at else None
    return DsaBacklogRead(
        counts=found.counts,
        waiting=found.waiting,
        failing=found.failing,
        oldest_waiting_since=found.oldest_pending_at,
        oldest_waiting_seconds=age,
    )
