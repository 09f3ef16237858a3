"""Review console: the reviewer's queues, a case in context with blurred media, claim,
escalate, decide, bulk decisions with a preview. Thin: parse, call the service, render."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, TypedDict

import pycountry
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.errors import InvalidInput, NotFound, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http import saved_views
from trustdesk.http.access import record_view
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.legal.policy.jurisdictions import eea_countries, eu_countries
from trustdesk.platform.port import Platform
from trustdesk.safety.access import case_view
from trustdesk.safety.enforcement.actions import SPECS, ActionKind, offered
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.enforcement.policies import Policy, load_policies
from trustdesk.safety.review import decisions, finder, preferences
from trustdesk.safety.review import service as review
from trustdesk.safety.review.context import case_context, media_of_case
from trustdesk.safety.review.models import OPEN_STATES, Case, ReviewQueue
from trustdesk.safety.review.pages import console_records
from trustdesk.safety.review.routing import load_setup

router = APIRouter(prefix="/console/review", include_in_schema=False)
Triage = Annotated[Principal, Depends(require(Permission.TRIAGE))]
Decider = Annotated[Principal, Depends(require(Permission.REVIEW_DECIDE))]
FormText = Annotated[str, Form()]


def _queues(session: Session, principal: Principal, now: datetime) -> list[dict[str, object]]:
    visible = review.visible_queues(session, principal=principal)
    rows = []
    for queue in session.scalars(select(ReviewQueue).order_by(ReviewQueue.service_hours, ReviewQueue.key)):
        if visible is not None and queue.key not in visible:
            continue
        open_ = select(func.count()).select_from(Case).where(Case.queue == queue.key, Case.state.in_(OPEN_STATES))
        rows.append(
            {"queue": queue, "open": session.scalar(open_) or 0, "overdue": session.scalar(open_.where(Case.due_at < now)) or 0}
        )
    return rows


@router.get("", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> HTMLResponse:
    request.state.principal = principal
    return render(
        request, "console/review/index.html", active="review", queues=_queues(session, principal, container.clock.now())
    )


QUEUE_PAGE = 50  # cases a page of a queue


def _filter_of(request: Request) -> finder.CaseFilter:
    return finder.CaseFilter.parse({k: v for k, v in request.query_params.items() if k != "cursor"})


@router.get("/queues/{key}", response_class=HTMLResponse)
def queue_page(
    key: str, request: Request, session: SessionDep, container: ContainerDep, principal: Triage, cursor: str | None = None
) -> HTMLResponse:
    request.state.principal = principal
    queue = session.get(ReviewQueue, key)
    if queue is None:
        raise NotFound(f"No queue '{key}'.")
    try:
        found, error = _filter_of(request), None
    except InvalidInput as exc:
        found, error = finder.CaseFilter(), exc.detail
    return _queue(request, session, container, principal, queue, found, cursor=cursor, error=error)


def _queue(
    request: Request,
    session: Session,
    container: ContainerDep,
    principal: Principal,
    queue: ReviewQueue,
    found: finder.CaseFilter,
    *,
    cursor: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = container.clock.now()
    path = f"/console/review/queues/{queue.key}"
    cases, after = finder.find_cases(
        session, principal=principal, queue=queue.key, found=found, now=now, limit=QUEUE_PAGE, cursor=cursor
    )
    return render(
        request,
        "console/review/queue.html",
        status_code=status_code if not error else 422,
        active="review",
        queue=queue,
        cases=cases,
        found=found,
        path=path,
        sorts=[(k, words) for k, (words, _) in finder.SORTS.items()],
        views=saved_views.views_of(session, username=principal.name, page=f"review:{queue.key}"),
        error=error,
        next_page=found.link(path, cursor=after) if after else None,
        first_page=found.link(path) if cursor else None,
        now=now,
        **_decision_choices(container.platform),
    )


@router.post("/queues/{key}/next", response_model=None)
def claim_next(key: str, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> Response:
    """Claim the first case of the reviewer's current view ("claim next") and open it."""
    queue = review.get_queue(session, key=key)
    found = _filter_of(request)
    try:
        with session.begin_nested():
            case = finder.claim_next(
                session,
                principal=principal,
                actor=actor_of(request, principal),
                clock=container.clock,
                queue=key,
                found=found,
            )
    except TrustdeskError as exc:
        request.state.principal = principal
        return _queue(request, session, container, principal, queue, found, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/console/review/cases/{case.id}", status_code=303)


@router.post("/queues/{key}/views", response_model=None)
def save_view(
    key: str, request: Request, session: SessionDep, container: ContainerDep, principal: Triage, name: FormText = ""
) -> Response:
    """Save the current filters of the queue under a name, for this reviewer alone."""
    queue = review.get_queue(session, key=key)
    found = _filter_of(request)
    try:
        with session.begin_nested():
            saved_views.save_view(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                username=principal.name,
                page=f"review:{key}",
                name=name,
                params=found.query(),
            )
    except TrustdeskError as exc:
        request.state.principal = principal
        return _queue(request, session, container, principal, queue, found, error=exc.detail, status_code=exc.status)
    return RedirectResponse(found.link(f"/console/review/queues/{key}"), status_code=303)


@router.post("/views/{view_id}/delete", response_model=None)
def delete_view(view_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> Response:
    view = saved_views.delete_view(
        session, actor=actor_of(request, principal), clock=container.clock, username=principal.name, view_id=view_id
    )
    return RedirectResponse(f"/console/review/queues/{view.page.removeprefix('review:')}", status_code=303)


def _regions() -> dict[str, frozenset[str]]:
    return {"EU": eu_countries(), "EEA": eea_countries()}


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


class _DecisionChoices(TypedDict):
    policies: list[Policy]
    actions: list[ActionKind]
    territorial: list[str]
    countries: list[tuple[str, str]]
    regions: list[tuple[str, int]]


def _decision_choices(platform: Platform) -> _DecisionChoices:
    """Only the actions this platform can carry out; countries by code and name."""
    return {
        "policies": list(load_policies().policies.values()),
        "actions": offered(platform),
        "territorial": [a.value for a, spec in SPECS.items() if spec.territorial],
        "countries": [(code, _country_name(code)) for code in sorted(eea_countries())],
        "regions": [(key, len(codes)) for key, codes in _regions().items()],
    }


def _scope(checked: list[str], region: str) -> list[str]:
    """The ticked countries, plus every country of the chosen region (EU or EEA)."""
    regions = _regions()
    if region and region not in regions:
        raise InvalidInput(f"Choose a region from: {', '.join(regions)}.", field="territorial_region")
    return sorted(set(checked) | set(regions.get(region, ())))


def _case_page(
    request: Request,
    session: Session,
    container: ContainerDep,
    principal: Principal,
    case_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.principal = principal
    case = review.get_case(session, principal=principal, case_id=case_id)
    ctx = case_context(session, clock=container.clock, platform=container.platform, case=case)
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
    prefs = preferences.preferences_of(session, username=principal.name, clock=container.clock)
    action_ids = [d.action_id for d in ctx.decisions if d.action_id]
    taken = list(session.scalars(select(EnforcementAction).where(EnforcementAction.id.in_(action_ids)))) if action_ids else []
    return render(
        request,
        "console/review/case.html",
        status_code=status_code,
        active="review",
        ctx=ctx,
        case=case,
        prefs=prefs,
        taken=taken,
        mine=review.holds_claim(case, username=principal.name, now=container.clock.now()),
        error=error,
        escalation_targets=[t for t in load_setup().escalation_targets if t != case.queue],
        **_decision_choices(container.platform),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> HTMLResponse:
    return _case_page(request, session, container, principal, case_id)


def _attempt(request: Request, session: Session, container: ContainerDep, principal: Principal, case_id: int, work) -> Response:  # type: ignore[no-untyped-def]
    """Run `work` in a savepoint: on a refusal nothing it did stays, and the page says why."""
    try:
        with session.begin_nested():
            work()
    except TrustdeskError as exc:
        return _case_page(request, session, container, principal, case_id, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/console/review/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/claim", response_model=None)
def claim(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> Response:
    actor = actor_of(request, principal)
    return _attempt(
        request,
        session,
        container,
        principal,
        case_id,
        lambda: review.claim(session, principal=principal, actor=actor, clock=container.clock, case_id=case_id),
    )


@router.post("/cases/{case_id}/release", response_model=None)
def release(case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Triage) -> Response:
    actor = actor_of(request, principal)
    return _attempt(
        request,
        session,
        container,
        principal,
        case_id,
        lambda: review.release(session, principal=principal, actor=actor, clock=container.clock, case_id=case_id),
    )


@router.post("/cases/{case_id}/escalate", response_model=None)
def escalate(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Triage,
    to: FormText = "",
    reason: FormText = "",
) -> Response:
    actor = actor_of(request, principal)
    return _attempt(
        request,
        session,
        container,
        principal,
        case_id,
        lambda: review.escalate(
            session, principal=principal, actor=actor, clock=container.clock, case_id=case_id, to=to, reason=reason
        ),
    )


def _until(value: str) -> datetime | None:
    """A date from the form means the end of that day, UTC."""
    if not value.strip():
        return None
    try:
        return datetime.combine(datetime.strptime(value.strip(), "%Y-%m-%d").date(), time(23, 59), UTC)
    except ValueError:
        raise InvalidInput("Give the end date as YYYY-MM-DD.", field="until") from None


def _plan(outcome: str, reason: str, policy: str, action: str, legal_ground: str, scope: list[str], until: str) -> decisions.Plan:
    return decisions.Plan(
        outcome=outcome,
        reason=reason,
        policy=policy or None,
        action=action or None,
        legal_ground=legal_ground.strip() or None,
        territorial_scope=tuple(scope) if scope else None,
        until=_until(until),
    )


@router.post("/cases/{case_id}/decide", response_model=None)
def decide(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Decider,
    outcome: FormText = "action",
    reason: FormText = "",
    policy: FormText = "",
    action: FormText = "",
    legal_ground: FormText = "",
    territorial_scope: Annotated[list[str] | None, Form()] = None,
    territorial_region: FormText = "",
    until: FormText = "",
) -> Response:
    actor = actor_of(request, principal)
    return _attempt(
        request,
        session,
        container,
        principal,
        case_id,
        lambda: decisions.decide(
            session,
            principal=principal,
            actor=actor,
            clock=container.clock,
            platform=container.platform,
            case_id=case_id,
            plan=_plan(outcome, reason, policy, action, legal_ground, _scope(territorial_scope or [], territorial_region), until),
        ),
    )


@router.get("/cases/{case_id}/media/{media_id}", response_model=None)
def media(case_id: RowId, media_id: str, session: SessionDep, container: ContainerDep, principal: Triage) -> Response:
    """Only media of a case the reviewer may see; never cached by the browser."""
    case = review.get_case(session, principal=principal, case_id=case_id)
    found = media_of_case(container.platform, case, media_id)
    if found is None:
        raise NotFound(f"Media {media_id} is not part of case {case_id}.")
    item, data = found
    return Response(data, media_type=item.content_type, headers={"Cache-Control": "no-store"})


@router.post("/bulk", response_class=HTMLResponse)
def bulk(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Decider,
    case_ids: Annotated[list[int], Form()],
    queue: FormText,
    outcome: FormText = "action",
    reason: FormText = "",
    policy: FormText = "",
    action: FormText = "",
    legal_ground: FormText = "",
    territorial_scope: Annotated[list[str] | None, Form()] = None,
    territorial_region: FormText = "",
    until: FormText = "",
    confirm: FormText = "",
) -> Response:
    """Without `confirm`: the preview. With it: the decisions, exactly as previewed."""
    request.state.principal = principal
    form = {
        "outcome": outcome,
        "reason": reason,
        "policy": policy,
        "action": action,
        "legal_ground": legal_ground,
        "territorial_scope": territorial_scope or [],
        "until": until,
        "queue": queue,
    }
    try:
        with session.begin_nested():
            scope = form["territorial_scope"] = _scope(territorial_scope or [], territorial_region)
            plan = _plan(outcome, reason, policy, action, legal_ground, scope, until)
            if confirm:
                made = decisions.bulk_decide(
                    session,
                    principal=principal,
                    actor=actor_of(request, principal),
                    clock=container.clock,
                    platform=container.platform,
                    case_ids=case_ids,
                    plan=plan,
                    confirm=confirm,
                    max_cases=container.settings.review_bulk_max_cases,
                )
                return render(request, "console/review/bulk_done.html", active="review", decisions=made, queue=queue)
            rows, digest = decisions.bulk_preview(
                session,
                principal=principal,
                platform=container.platform,
                case_ids=case_ids,
                plan=plan,
                max_cases=container.settings.review_bulk_max_cases,
            )
    except TrustdeskError as exc:
        return render(
            request,
            "console/review/bulk_preview.html",
            status_code=exc.status,
            active="review",
            rows=[],
            digest="",
            form=form,
            case_ids=case_ids,
            error=exc.detail,
        )
    return render(
        request,
        "console/review/bulk_preview.html",
        active="review",
        rows=rows,
        digest=digest,
        form=form,
        case_ids=case_ids,
        error=None,
    )


router.include_router(console_records.router)
