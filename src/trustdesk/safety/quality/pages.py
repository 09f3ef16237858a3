"""Review-quality console (/console/quality): the figures with charts and the CSV link, the
sampling rules, the blind re-review queue and form, and the senior's disagreements. Thin:
parse, call the service, render. The blind pages are rendered from `BlindItem` alone."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.errors import InvalidInput, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.quality import export, labels, metrics, sampling
from trustdesk.safety.quality.charts import RateBar, rate_chart
from trustdesk.safety.quality.models import QualitySource, SamplePeriod
from trustdesk.safety.review.routing import load_setup

router = APIRouter(prefix="/console/quality", include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.QUALITY_READ))]
Manager = Annotated[Principal, Depends(require(Permission.QUALITY_MANAGE))]
ReReviewer = Annotated[Principal, Depends(require(Permission.QUALITY_REVIEW))]
Senior = Annotated[Principal, Depends(require(Permission.QUALITY_ADJUDICATE))]
FormText = Annotated[str, Form()]


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD).", field=field) from None


def _charts(m: metrics.QualityMetrics) -> dict[str, object]:
    return {
        "agreement": rate_chart("Agreement of blind re-reviews, by policy", [RateBar(g.key, g.agreement) for g in m.by_policy]),
        "accuracy": rate_chart(
            "Decisions confirmed by the final label, by policy", [RateBar(g.key, g.accuracy) for g in m.by_policy], colour=1
        ),
        "overturn": rate_chart(
            "Decisions reversed on appeal, by policy", [RateBar(g.key, g.overturn) for g in m.by_policy], colour=2
        ),
        "precision": rate_chart(
            "Precision of automated means, by version", [RateBar(p.detector, p.precision) for p in m.precision], colour=3
        ),
        "months": rate_chart("Agreement by month", [RateBar(g.key, g.agreement) for g in m.by_period]),
    }


@router.get("", response_class=HTMLResponse)
def index(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Reader,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> HTMLResponse:
    request.state.principal = principal
    lo, hi = export.interval(_date(start, "from"), _date(end, "to"), today=container.clock.now().date())
    m = metrics.quality_metrics(session, principal=principal, start=lo, end=hi)
    return render(
        request,
        "console/quality/index.html",
        active="quality",
        m=m,
        charts=_charts(m),
        start=f"{lo:%Y-%m-%d}",
        end=f"{hi:%Y-%m-%d}",
        rules=sampling.list_rules(session, principal=principal),
    )


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    return _rules(request, session, principal)


def _rules(request: Request, session: Session, principal: Principal, error: str | None = None, status: int = 200) -> HTMLResponse:
    request.state.principal = principal
    return render(
        request,
        "console/quality/rules.html",
        status_code=status,
        active="quality",
        rules=sampling.list_rules(session, principal=principal, include_retired=True),
        error=error,
        queues=[q.key for q in load_setup().queues],
        policies=sorted(load_policies().policies),
        sources=list(QualitySource),
        periods=list(SamplePeriod),
    )


@router.post("/rules", response_model=None)
def create_rule(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    name: FormText = "",
    share: FormText = "",
    minimum: FormText = "0",
    period: FormText = "week",
    queue: FormText = "",
    policy: FormText = "",
    source: FormText = "",
    decider: FormText = "",
) -> Response:
    try:
        with session.begin_nested():
            spec = sampling.RuleSpec(
                name=name,
                share=_number(share, "share") / 100,
                minimum=int(_number(minimum or "0", "minimum")),
                period=period,
                queue=queue or None,
                policy=policy or None,
                source=source or None,
                decider=decider or None,
            )
            sampling.create_rule(
                session, principal=principal, actor=actor_of(request, principal), clock=container.clock, spec=spec
            )
    except TrustdeskError as exc:
        return _rules(request, session, principal, error=exc.detail, status=exc.status)
    return RedirectResponse("/console/quality/rules", status_code=303)


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a number.", field=field) from None


@router.post("/rules/{rule_id}/retire", response_model=None)
def retire_rule(rule_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> Response:
    try:
        with session.begin_nested():
            sampling.retire_rule(
                session, principal=principal, actor=actor_of(request, principal), clock=container.clock, rule_id=rule_id
            )
    except TrustdeskError as exc:
        return _rules(request, session, principal, error=exc.detail, status=exc.status)
    return RedirectResponse("/console/quality/rules", status_code=303)


@router.post("/draw", response_model=None)
def draw(request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> Response:
    sampling.draw(session, principal=principal, actor=actor_of(request, principal), clock=container.clock)
    return RedirectResponse("/console/quality/rules", status_code=303)


# -- blind re-review ---------------------------------------------------------------------------


@router.get("/reviews", response_class=HTMLResponse)
def blind_queue(request: Request, session: SessionDep, container: ContainerDep, principal: ReReviewer) -> HTMLResponse:
    request.state.principal = principal
    items = labels.blind_queue(session, principal=principal)
    return render(request, "console/quality/reviews.html", active="quality", items=items)


def _blind(
    request: Request,
    session: Session,
    container: ContainerDep,
    principal: Principal,
    sample_id: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    request.state.principal = principal
    item = labels.blind_item(session, principal=principal, sample_id=sample_id, platform=container.platform)
    policies = sorted(load_policies().policies)
    return render(
        request, "console/quality/review.html", status_code=status, active="quality", item=item, policies=policies, error=error
    )


@router.get("/reviews/{sample_id}", response_class=HTMLResponse)
def blind_page(
    sample_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: ReReviewer
) -> HTMLResponse:
    return _blind(request, session, container, principal, sample_id)


@router.post("/reviews/{sample_id}", response_model=None)
def blind_label(
    sample_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: ReReviewer,
    outcome: FormText = "",
    policy: FormText = "",
    note: FormText = "",
) -> Response:
    try:
        with session.begin_nested():
            labels.give_blind_label(
                session,
                principal=principal,
                actor=actor_of(request, principal),
                clock=container.clock,
                sample_id=sample_id,
                label=labels.Label(outcome, policy or None, note),
            )
    except TrustdeskError as exc:
        return _blind(request, session, container, principal, sample_id, error=exc.detail, status=exc.status)
    return RedirectResponse("/console/quality/reviews", status_code=303)


# -- the senior's final label ------------------------------------------------------------------


@router.get("/disagreements", response_class=HTMLResponse)
def disagreements(request: Request, session: SessionDep, principal: Senior) -> HTMLResponse:
    request.state.principal = principal
    samples = labels.disagreements(session, principal=principal)
    return render(request, "console/quality/disagreements.html", active="quality", samples=samples)


def _senior(
    request: Request,
    session: Session,
    container: ContainerDep,
    principal: Principal,
    sample_id: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    request.state.principal = principal
    sample = labels.disagreement(session, principal=principal, sample_id=sample_id)
    item = labels.blind_view(sample, container.platform)
    return render(
        request,
        "console/quality/disagreement.html",
        status_code=status,
        active="quality",
        sample=sample,
        item=item,
        policies=sorted(load_policies().policies),
        error=error,
    )


@router.get("/disagreements/{sample_id}", response_class=HTMLResponse)
def senior_page(
    sample_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Senior
) -> HTMLResponse:
    return _senior(request, session, container, principal, sample_id)


@router.post("/disagreements/{sample_id}", response_model=None)
def final_label(
    sample_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Senior,
    outcome: FormText = "",
    policy: FormText = "",
    note: FormText = "",
) -> Response:
    try:
        with session.begin_nested():
            labels.give_final_label(
                session,
                principal=principal,
                actor=actor_of(request, principal),
                clock=container.clock,
                sample_id=sample_id,
                label=labels.Label(outcome, policy or None, note),
            )
    except TrustdeskError as exc:
        return _senior(request, session, container, principal, sample_id, error=exc.detail, status=exc.status)
    return RedirectResponse("/console/quality/disagreements", status_code=303)
