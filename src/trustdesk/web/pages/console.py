"""The console: server-rendered pages for staff. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trustdesk.core.audit import service as audit_service
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import BigRowId
from trustdesk.http.deps import (
    SESSION_COOKIE,
    ContainerDep,
    SessionDep,
    current_principal,
    optional_principal,
    require,
)
from trustdesk.http.rendering import navigation_for, render

router = APIRouter(include_in_schema=False)
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


@router.get("/", response_model=None)
def root() -> RedirectResponse:
    return RedirectResponse("/console", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "console/login.html", error=None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    container: ContainerDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
) -> Response:
    settings = container.settings
    with container.db.transaction() as session:  # committed even on failure: the audit entry stays
        outcome = identity.login(
            session,
            clock=container.clock,
            username=username.strip().lower(),
            password=password,
            totp_code=totp,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            request_id=getattr(request.state, "request_id", None),
        )
        if outcome.user is None:
            assert outcome.error is not None
            return render(
                request, "console/login.html", status_code=outcome.error.status, error=outcome.error.detail, username=username
            )
        secret, _ = identity.open_console_session(session, clock=container.clock, user=outcome.user, hours=settings.session_hours)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        secure=settings.session_cookie_secure,
        samesite="lax",
        max_age=int(settings.session_hours * 3600),
        path="/",
    )
    return response


@router.post("/logout", response_model=None)
def logout(
    request: Request,
    container: ContainerDep,
    session: SessionDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and principal is not None:
        identity.end_console_session(session, clock=container.clock, secret=cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console", response_class=HTMLResponse)
def dashboard(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> HTMLResponse:
    return render(request, "console/dashboard.html", areas=navigation_for(principal))


@router.get("/console/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: SessionDep,
    _: AuditReader,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    before: BigRowId | None = None,  # an audit seq
) -> HTMLResponse:
    entries = audit_service.list_entries(
        session, actor=actor or None, action=action or None, object_type=object_type or None, before_seq=before, limit=50
    )
    template = "console/_audit_rows.html" if request.headers.get("HX-Request") else "console/audit.html"
    return render(
        request, template, active="audit", entries=entries, filters={"actor": actor, "action": action, "object_type": object_type}
    )


@router.get("/console/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, session: SessionDep, _: AuditReader) -> HTMLResponse:
    return render(request, "console/_verify.html", result=audit_service.verify(session))
