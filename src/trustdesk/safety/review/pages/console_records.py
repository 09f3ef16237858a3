"""Review console, second half: appeals, an account's record (strikes, actions), the
reviewer's own preferences, the CyberTipline filing queue, and DSA database rejections."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.access import PersonView, person_view, record_view
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.safety.access import ACCOUNT, account_checks, tipline_views
from trustdesk.safety.enforcement import cybertipline, dsa_submission, strikes
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.review import appeals, preferences

router = APIRouter(include_in_schema=False)  # mounted under /console/review by review.pages.console
Triage = Annotated[Principal, Depends(require(Permission.TRIAGE))]
Decider = Annotated[Principal, Depends(require(Permission.REVIEW_DECIDE))]
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
Filer = Annotated[Principal, Depends(require(Permission.CYBERTIPLINE_FILE))]
Publisher = Annotated[Principal, Depends(require(Permission.TRANSPARENCY_PUBLISH))]
FormText = Annotated[str, Form()]


@router.get("/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, session: SessionDep, principal: Decider) -> HTMLResponse:
    request.state.principal = principal
    return render(
        request, "console/review/appeals.html", active="review", appeals=appeals.list_appeals(session, principal=principal)
    )


def _appeal_page(
    request: Request,
    session: Session,
    container: ContainerDep,
    principal: Principal,
    appeal_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.principal = principal
    appeal = appeals.get_appeal(session, principal=principal, appeal_id=appeal_id)
    statement = session.get(StatementOfReasons, appeal.statement_id)
    return render(
        request,
        "console/review/appeal.html",
        status_code=status_code,
        active="review",
        appeal=appeal,
        statement=statement,
        action=statement.action if statement else None,
        error=error,
        own=appeal.first_reviewer == str(actor_of(request, principal)),
    )


@router.get("/appeals/{appeal_id}", response_class=HTMLResponse)
def appeal_page(
    appeal_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Decider
) -> HTMLResponse:
    return _appeal_page(request, session, container, principal, appeal_id)


@router.post("/appeals/{appeal_id}", response_model=None)
def decide_appeal(
    appeal_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Decider,
    outcome: FormText = "",
    reason: FormText = "",
) -> Response:
    try:
        with session.begin_nested():
            appeals.decide_appeal(
                session,
                principal=principal,
                actor=actor_of(request, principal),
                clock=container.clock,
                platform=container.platform,
                appeal_id=appeal_id,
                outcome=outcome,
                reason=reason,
            )
    except TrustdeskError as exc:
        return _appeal_page(request, session, container, principal, appeal_id, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/console/review/appeals/{appeal_id}", status_code=303)


AccountView = Annotated[
    PersonView,
    Depends(
        person_view(
            what="account_page",
            permission=Permission.SAFETY_READ,
            subject_kind=ACCOUNT,
            subject_param="account_id",
            checks=account_checks,
        )
    ),
]


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(
    account_id: str, request: Request, session: SessionDep, container: ContainerDep, view: AccountView
) -> HTMLResponse:
    """The account's page: its strikes (with expiry), points against the thresholds, and every
    action; for a purpose that concerns the account (`?purpose=case:12`), logged (core/access)."""
    request.state.principal = view.principal
    try:
        account = container.platform.get_account(account_id)
    except LookupError:
        account = None
    return render(
        request,
        "console/review/account.html",
        active="review",
        account_id=account_id,
        account=account,
        strikes=strikes.strikes_for(session, account_id=account_id),
        now=container.clock.now(),
        points=strikes.active_points(session, account_id=account_id, now=container.clock.now()),
        thresholds=load_policies().thresholds,
        actions=enforcement.actions_for_account(session, account_id=account_id),
        purpose=view.justification,
    )


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(
    request: Request, session: SessionDep, container: ContainerDep, principal: Triage, saved: bool = False
) -> HTMLResponse:
    request.state.principal = principal
    prefs = preferences.preferences_of(session, username=principal.name, clock=container.clock)
    return render(request, "console/review/preferences.html", active="review", prefs=prefs, error=None, saved=saved)


@router.post("/preferences", response_model=None)
def save_preferences(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Triage,
    blur_media: FormText = "",
    greyscale_media: FormText = "",
    daily_sensitive_limit: FormText = "",
) -> Response:
    request.state.principal = principal
    try:
        limit = int(daily_sensitive_limit) if daily_sensitive_limit.strip() else None
        with session.begin_nested():
            preferences.set_preferences(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                username=principal.name,
                blur_media=bool(blur_media),
                greyscale_media=bool(greyscale_media),
                daily_sensitive_limit=limit,
            )
    except (TrustdeskError, ValueError) as exc:
        prefs = preferences.preferences_of(session, username=principal.name, clock=container.clock)
        detail = getattr(exc, "detail", "The daily limit is a whole number.")
        return render(
            request, "console/review/preferences.html", status_code=422, active="review", prefs=prefs, error=detail, saved=False
        )
    return RedirectResponse("/console/review/preferences?saved=1", status_code=303)


@router.get("/cybertipline", response_class=HTMLResponse)
def tipline_page(request: Request, session: SessionDep, container: ContainerDep, principal: Filer) -> HTMLResponse:
    for subject, why, ref in tipline_views(cybertipline.filing_queue(session)):
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
    return _tipline(request, session, principal, None)


def _tipline(request: Request, session: Session, principal: Principal, error: str | None, status_code: int = 200) -> HTMLResponse:
    request.state.principal = principal
    return render(
        request,
        "console/review/cybertipline.html",
        status_code=status_code,
        active="review",
        reports=cybertipline.filing_queue(session),
        error=error,
        dumps=lambda v: json.dumps(v, indent=2, ensure_ascii=False),
    )


@router.post("/cybertipline/{report_id}/filed", response_model=None)
def tipline_filed(
    report_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Filer,
    ncmec_report_id: FormText = "",
) -> Response:
    try:
        with session.begin_nested():
            cybertipline.mark_filed(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                principal=principal,
                report_id=report_id,
                ncmec_report_id=ncmec_report_id,
            )
    except TrustdeskError as exc:
        return _tipline(request, session, principal, exc.detail, exc.status)
    return RedirectResponse("/console/review/cybertipline", status_code=303)


@router.get("/dsa", response_class=HTMLResponse)
def dsa_page(request: Request, session: SessionDep, principal: Publisher) -> HTMLResponse:
    return _dsa(request, session, principal, None)


def _dsa(
    request: Request,
    session: Session,
    principal: Principal,
    error: str | None,
    audit: dsa_submission.AuditResult | None = None,
) -> HTMLResponse:
    request.state.principal = principal
    return render(
        request,
        "console/review/dsa.html",
        status_code=422 if error else 200,
        active="review",
        statements=dsa_submission.rejected_statements(session),
        backlog=dsa_submission.backlog(session),
        audit=audit,
        shown=SELF_AUDIT_SHOWN,
        error=error,
        dumps=lambda v: json.dumps(v, indent=2, ensure_ascii=False),
    )


SELF_AUDIT_SHOWN = 500  # the console lists this many discrepancies; the CLI lists them all


@router.post("/dsa/self-audit", response_class=HTMLResponse)
def dsa_self_audit(request: Request, session: SessionDep, container: ContainerDep, principal: Publisher) -> HTMLResponse:
    """Run the self-audit now and list what it found, for correction."""
    result = dsa_submission.self_audit(session, actor=actor_of(request, principal), clock=container.clock)
    return _dsa(request, session, principal, None, audit=result)


@router.post("/dsa/{statement_id}", response_model=None)
def dsa_fix(
    statement_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Publisher,
    payload: FormText = "",
) -> Response:
    try:
        data = json.loads(payload)
        with session.begin_nested():
            dsa_submission.revise_statement(
                session, actor=actor_of(request, principal), clock=container.clock, statement_id=statement_id, payload=data
            )
    except json.JSONDecodeError as exc:
        return _dsa(request, session, principal, f"Statement {statement_id}: not valid JSON ({exc.msg}, line {exc.lineno}).")
    except TrustdeskError as exc:
        extra = exc.extensions.get("errors")
        return _dsa(request, session, principal, f"Statement {statement_id}: {exc.detail} {json.dumps(extra) if extra else ''}")
    return RedirectResponse("/console/review/dsa", status_code=303)
