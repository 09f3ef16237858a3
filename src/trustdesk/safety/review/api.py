"""Review API: queues, cases, claims, decisions (single and bulk), appeals. Thin: parse,
call the service, answer; scoping to the caller's queues happens in the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.access import record_view
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.safety.access import case_view
from trustdesk.safety.review import appeals, decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.schemas import (
    AppealCreate,
    AppealDecision,
    AppealRead,
    BulkPreview,
    BulkPreviewRow,
    BulkRequest,
    CaseOpen,
    CaseRead,
    DecisionCreate,
    DecisionRead,
    Escalation,
    MemberAdd,
)

router = APIRouter(tags=["review"])
Triage = Annotated[Principal, Depends(require(Permission.TRIAGE))]
Decider = Annotated[Principal, Depends(require(Permission.REVIEW_DECIDE))]
Manager = Annotated[Principal, Depends(require(Permission.REVIEW_MANAGE))]
Ingest = Annotated[Principal, Depends(require(Permission.EVENTS_INGEST))]


def _plan(body: DecisionCreate) -> decisions.Plan:
    scope = tuple(body.territorial_scope) if body.territorial_scope else None
    return decisions.Plan(
        outcome=body.outcome,
        reason=body.reason,
        policy=body.policy,
        action=body.action,
        legal_ground=body.legal_ground,
        territorial_scope=scope,
        until=body.until,
    )


@router.post("/review/cases", response_model=CaseRead, status_code=201)
def open_case(body: CaseOpen, request: Request, session: SessionDep, container: ContainerDep, principal: Ingest) -> CaseRead:
    """For rules, hash matching and other systems: a repeat about an open subject joins its case."""
    case = review.open_case(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return CaseRead.model_validate(case)


@router.get("/review/cases", response_model=list[CaseRead])
def list_cases(session: SessionDep, principal: Triage, queue: str | None = None) -> list[CaseRead]:
    return [CaseRead.model_validate(c) for c in review.list_cases(session, principal=principal, queue=queue)]


@router.get("/review/cases/{case_id}", response_model=CaseRead)
def get_case(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> CaseRead:
    """One case in the caller's queues; the view is logged against its account (core/access)."""
    case = review.get_case(session, principal=principal, case_id=case_id)
    subjects, why = case_view(case, container.platform)
    record_view(
        request,
        session,
        container,
        principal=principal,
        subjects=subjects,
        what="review_case",
        justification=why,
        object_ref=f"case:{case.id}",
    )
    return CaseRead.model_validate(case)


@router.post("/review/cases/{case_id}/claim", response_model=CaseRead)
def claim(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> CaseRead:
    case = review.claim(session, principal=principal, actor=actor_of(request, principal), clock=container.clock, case_id=case_id)
    return CaseRead.model_validate(case)


@router.post("/review/cases/{case_id}/release", response_model=CaseRead)
def release(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> CaseRead:
    case = review.release(
        session, principal=principal, actor=actor_of(request, principal), clock=container.clock, case_id=case_id
    )
    return CaseRead.model_validate(case)


@router.post("/review/cases/{case_id}/escalate", response_model=CaseRead)
def escalate(
    case_id: RowId, body: Escalation, request: Request, session: SessionDep, container: ContainerDep, principal: Triage
) -> CaseRead:
    case = review.escalate(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        case_id=case_id,
        to=body.to,
        reason=body.reason,
    )
    return CaseRead.model_validate(case)


@router.post("/review/cases/{case_id}/decision", response_model=DecisionRead, status_code=201)
def decide(
    case_id: RowId, body: DecisionCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Decider
) -> DecisionRead:
    decision = decisions.decide(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        platform=container.platform,
        case_id=case_id,
        plan=_plan(body),
    )
    return DecisionRead.model_validate(decision)


@router.post("/review/bulk/preview", response_model=BulkPreview)
def bulk_preview(body: BulkRequest, session: SessionDep, container: ContainerDep, principal: Decider) -> BulkPreview:
    rows, digest = decisions.bulk_preview(
        session,
        principal=principal,
        platform=container.platform,
        case_ids=body.case_ids,
        plan=_plan(body),
        max_cases=container.settings.review_bulk_max_cases,
    )
    return BulkPreview(rows=[BulkPreviewRow(**vars(r)) for r in rows], confirm=digest)


@router.post("/review/bulk", response_model=list[DecisionRead], status_code=201)
def bulk_decide(
    body: BulkRequest, request: Request, session: SessionDep, container: ContainerDep, principal: Decider
) -> list[DecisionRead]:
    made = decisions.bulk_decide(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        platform=container.platform,
        case_ids=body.case_ids,
        plan=_plan(body),
        confirm=body.confirm or "",
        max_cases=container.settings.review_bulk_max_cases,
    )
    return [DecisionRead.model_validate(d) for d in made]


@router.post("/appeals", response_model=AppealRead, status_code=201)
def file_appeal(body: AppealCreate, session: SessionDep, container: ContainerDep) -> AppealRead:
    """The affected user's complaint, with the token from their statement of reasons."""
    return AppealRead.model_validate(appeals.file_appeal(session, clock=container.clock, token=body.token, text=body.text))


@router.get("/review/appeals", response_model=list[AppealRead])
def list_appeals(session: SessionDep, principal: Decider) -> list[AppealRead]:
    return [AppealRead.model_validate(a) for a in appeals.list_appeals(session, principal=principal)]


@router.post("/review/appeals/{appeal_id}/decision", response_model=AppealRead)
def decide_appeal(
    appeal_id: RowId, body: AppealDecision, request: Request, session: SessionDep, container: ContainerDep, principal: Decider
) -> AppealRead:
    appeal = appeals.decide_appeal(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        platform=container.platform,
        appeal_id=appeal_id,
        outcome=body.outcome,
        reason=body.reason,
    )
    return AppealRead.model_validate(appeal)


@router.post("/review/queues/{queue}/members", status_code=201)
def add_member(
    queue: str, body: MemberAdd, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> dict[str, str]:
    member = review.add_member(
        session, actor=actor_of(request, principal), clock=container.clock, queue=queue, username=body.username
    )
    return {"queue": member.queue_key, "username": member.username}
