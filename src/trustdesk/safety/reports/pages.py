"""The public side: the notice form (Art. 16 DSA) and its receipt, the affected user's
statement of reasons (Art. 17) and the appeal form (Art. 20). No sign-in: the notifier and
the user hold unguessable links (their receipt and their statement)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trustdesk.core.audit import Actor
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.urls import Audience, absolute
from trustdesk.http.deps import ContainerDep, SessionDep
from trustdesk.http.rendering import render
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.statements import LANGUAGES, template
from trustdesk.safety.enforcement.statements import render as render_statement
from trustdesk.safety.reports import service
from trustdesk.safety.reports.reasons import load_reasons
from trustdesk.safety.review import appeals

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


def _form(
    request: Request, *, values: dict[str, str], error: str | None = None, field: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "console/safety_reports/report_form.html",
        status_code=status_code,
        reasons=list(load_reasons().values()),
        values=values,
        error=error,
        field=field,
        principal=None,
    )


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, subject_kind: str = "message", subject_id: str = "") -> HTMLResponse:
    return _form(request, values={"subject_kind": subject_kind, "subject_id": subject_id})


@router.post("/report", response_model=None)
def submit_report(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    reason: FormText = "",
    subject_kind: FormText = "message",
    subject_id: FormText = "",
    location: FormText = "",
    explanation: FormText = "",
    notifier_name: FormText = "",
    notifier_email: FormText = "",
    good_faith: FormText = "",
) -> Response:
    values = {
        "reason": reason,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "location": location,
        "explanation": explanation,
        "notifier_name": notifier_name,
        "notifier_email": notifier_email,
    }
    try:
        with session.begin_nested():
            notice = service.submit_notice(
                session,
                actor=Actor("public", "notifier", getattr(request.state, "request_id", None)),
                clock=container.clock,
                platform=container.platform,
                reason=reason,
                subject_kind=subject_kind,
                subject_id=subject_id,
                location=location or None,
                explanation=explanation,
                good_faith=bool(good_faith),
                notifier_name=notifier_name or None,
                notifier_email=notifier_email or None,
            )
    except TrustdeskError as exc:
        return _form(request, values=values, error=exc.detail, field=exc.extensions.get("field"), status_code=exc.status)
    return RedirectResponse(f"/report/{notice.token}", status_code=303)


def _receipt(
    request: Request, session: SessionDep, token: str, *, error: str | None = None, text: str = "", status_code: int = 200
) -> HTMLResponse:
    try:
        notice = service.notice_by_token(session, token=token)
    except TrustdeskError as exc:
        return render(request, "console/error.html", status_code=exc.status, title=exc.title, detail=exc.detail, principal=None)
    return render(
        request,
        "console/safety_reports/report_status.html",
        status_code=status_code,
        notice=notice,
        reason=load_reasons()[notice.reason],
        replies=service.replies_to(session, notice=notice),
        error=error,
        text=text,
        principal=None,
    )


@router.get("/report/{token}", response_class=HTMLResponse)
def report_status(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    return _receipt(request, session, token)


@router.post("/report/{token}/reply", response_model=None)
def reply_to_report(token: str, request: Request, session: SessionDep, container: ContainerDep, text: FormText = "") -> Response:
    try:
        with session.begin_nested():
            service.reply_to_notice(session, clock=container.clock, token=token, text=text)
    except TrustdeskError as exc:
        return _receipt(request, session, token, error=exc.detail, text=text, status_code=exc.status)
    return RedirectResponse(f"/report/{token}#replies", status_code=303)


@router.get("/statement/{token}", response_class=HTMLResponse)
def statement_page(
    token: str, request: Request, session: SessionDep, container: ContainerDep, lang: str | None = None
) -> HTMLResponse:
    try:
        row = enforcement.statement_by_token(session, token=token)
    except TrustdeskError as exc:
        return render(request, "console/error.html", status_code=exc.status, title=exc.title, detail=exc.detail, principal=None)
    language = lang if lang in LANGUAGES else row.language
    sections = render_statement(
        row.facts,
        language=language,
        appeal_url=absolute(container.settings, Audience.PUBLIC, f"/appeal/{token}", request),
        correction=row.correction,
    )
    return render(
        request,
        "console/safety_reports/statement.html",
        statement=row,
        sections=sections,
        language=language,
        languages=LANGUAGES,
        title=template(language)["title"],
        appeals=appeals.appeals_for_statement(session, statement_id=row.id),
        open_for_appeal=container.clock.now() <= row.appeal_until and row.action.reversed_at is None,
        principal=None,
    )


@router.get("/appeal/{token}", response_class=HTMLResponse)
def appeal_form(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        row = enforcement.statement_by_token(session, token=token)
    except TrustdeskError as exc:
        return render(request, "console/error.html", status_code=exc.status, title=exc.title, detail=exc.detail, principal=None)
    return render(
        request, "console/safety_reports/appeal_form.html", statement=row, token=token, error=None, text="", principal=None
    )


@router.post("/appeal/{token}", response_model=None)
def file_appeal(token: str, request: Request, session: SessionDep, container: ContainerDep, text: FormText = "") -> Response:
    try:
        with session.begin_nested():
            appeals.file_appeal(session, clock=container.clock, token=token, text=text)
    except TrustdeskError as exc:
        try:
            row = enforcement.statement_by_token(session, token=token)
        except TrustdeskError:
            return render(
                request, "console/error.html", status_code=exc.status, title=exc.title, detail=exc.detail, principal=None
            )
        return render(
            request,
            "console/safety_reports/appeal_form.html",
            status_code=exc.status,
            statement=row,
            token=token,
            error=exc.detail,
            text=text,
            principal=None,
        )
    return RedirectResponse(f"/statement/{token}", status_code=303)
