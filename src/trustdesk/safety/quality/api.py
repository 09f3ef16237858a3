"""Review-quality API: sampling rules, the draw, blind re-reviews, senior labels, and the
figures as JSON and CSV. Thin: parse, call the service, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.safety.quality import export, labels, metrics, sampling
from trustdesk.safety.quality.schemas import (
    BlindItemRead,
    DisagreementRead,
    DrawResult,
    LabelCreate,
    LabelReceipt,
    MetricsRead,
    RuleCreate,
    RuleRead,
    SampleRead,
)

router = APIRouter(prefix="/quality", tags=["quality"])
Reader = Annotated[Principal, Depends(require(Permission.QUALITY_READ))]
Manager = Annotated[Principal, Depends(require(Permission.QUALITY_MANAGE))]
ReReviewer = Annotated[Principal, Depends(require(Permission.QUALITY_REVIEW))]
Senior = Annotated[Principal, Depends(require(Permission.QUALITY_ADJUDICATE))]
From = Annotated[date | None, Query(alias="from", description="first day, UTC (default: 90 days before 'to')")]
To = Annotated[date | None, Query(description="day after the last, UTC (default: tomorrow)")]


@router.get("/rules", response_model=list[RuleRead])
def list_rules(session: SessionDep, principal: Reader) -> list[RuleRead]:
    return [RuleRead.model_validate(r) for r in sampling.list_rules(session, principal=principal)]


@router.post("/rules", response_model=RuleRead, status_code=201)
def create_rule(body: RuleCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> RuleRead:
    rule = sampling.create_rule(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        spec=sampling.RuleSpec(**body.model_dump()),
    )
    return RuleRead.model_validate(rule)


@router.post("/rules/{rule_id}/retire", response_model=RuleRead)
def retire_rule(rule_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> RuleRead:
    rule = sampling.retire_rule(
        session, principal=principal, actor=actor_of(request, principal), clock=container.clock, rule_id=rule_id
    )
    return RuleRead.model_validate(rule)


@router.post("/draw", response_model=DrawResult)
def draw(request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> DrawResult:
    made = sampling.draw(session, principal=principal, actor=actor_of(request, principal), clock=container.clock)
    return DrawResult(drawn=len(made), sample_ids=[s.id for s in made])


@router.get("/reviews", response_model=list[BlindItemRead])
def blind_queue(session: SessionDep, container: ContainerDep, principal: ReReviewer) -> list[BlindItemRead]:
    """Samples waiting for a blind re-review, without the caller's own decisions."""
    items = labels.blind_queue(session, principal=principal, platform=container.platform)
    return [BlindItemRead.model_validate(i) for i in items]


@router.get("/reviews/{sample_id}", response_model=BlindItemRead)
def blind_item(sample_id: RowId, session: SessionDep, container: ContainerDep, principal: ReReviewer) -> BlindItemRead:
    item = labels.blind_item(session, principal=principal, sample_id=sample_id, platform=container.platform)
    return BlindItemRead.model_validate(item)


@router.post("/reviews/{sample_id}/label", response_model=LabelReceipt, status_code=201)
def blind_label(
    sample_id: RowId, body: LabelCreate, request: Request, session: SessionDep, container: ContainerDep, principal: ReReviewer
) -> LabelReceipt:
    labels.give_blind_label(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        sample_id=sample_id,
        label=labels.Label(body.outcome, body.policy, body.note),
    )
    return LabelReceipt(sample_id=sample_id)


@router.get("/disagreements", response_model=list[DisagreementRead])
def disagreements(session: SessionDep, principal: Senior) -> list[DisagreementRead]:
    return [DisagreementRead.model_validate(s) for s in labels.disagreements(session, principal=principal)]


@router.post("/disagreements/{sample_id}/label", response_model=SampleRead, status_code=201)
def final_label(
    sample_id: RowId, body: LabelCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Senior
) -> SampleRead:
    sample = labels.give_final_label(
        session,
        principal=principal,
        actor=actor_of(request, principal),
        clock=container.clock,
        sample_id=sample_id,
        label=labels.Label(body.outcome, body.policy, body.note),
    )
    return SampleRead.model_validate(sample)


@router.get("/metrics", response_model=MetricsRead)
def get_metrics(
    session: SessionDep, container: ContainerDep, principal: Reader, start: From = None, end: To = None
) -> MetricsRead:
    lo, hi = export.interval(start, end, today=container.clock.now().date())
    return export.metrics_read(metrics.quality_metrics(session, principal=principal, start=lo, end=hi))


@router.get("/metrics.csv", responses={200: {"description": "One row per group and measure.", "content": {"text/csv": {}}}})
def get_metrics_csv(
    session: SessionDep, container: ContainerDep, principal: Reader, start: From = None, end: To = None
) -> Response:
    lo, hi = export.interval(start, end, today=container.clock.now().date())
    body = export.render_csv(metrics.quality_metrics(session, principal=principal, start=lo, end=hi))
    name = f"quality-{lo:%Y-%m-%d}-{hi:%Y-%m-%d}.csv"
    return Response(body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
