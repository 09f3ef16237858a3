"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.errors import AuthenticationFailed, Forbidden, InvalidInput, Overloaded, TrustdeskError
from trustdesk.http.rendering import render

log = logging.getLogger("trustdesk.web")
PROBLEM_BASE = "https://trustdesk.dev/problems/"
MEDIA_TYPE = "application/problem+json"
PAGE_AREAS = ("/console", "/portal")


def problem(request: Request, *, status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _is_page(request: Request) -> bool:
    """Console and portal pages answer people, not programs: HTML, not JSON. Elsewhere outside
    the API (the public pages), a browser asking for HTML gets a page too."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or path in ("/healthz", "/readyz", "/metrics"):
        return False
    return path.startswith(PAGE_AREAS) or path == "/login" or "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, *, status: int, title: str, detail: str) -> Response:
    """An error as a page with its audience's header: console, portal or public (the public
    error page never links to the staff sign-in)."""
    path = request.url.path
    if path.startswith("/portal"):
        template = "portal/problem.html"
    elif path.startswith("/console") or path == "/login":
        template = "console/error.html"
    else:
        template = "public/error.html"
    return render(request, template, status_code=status, status=status, title=title, detail=detail)


def _page_error(request: Request, exc: TrustdeskError) -> Response:
    if exc.status == 401:
        login = "/portal/login" if request.url.path.startswith("/portal") else "/login"
        if request.headers.get("HX-Request"):  # htmx swaps fragments; make it load the whole page
            return Response(status_code=204, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)
    return _error_page(request, status=exc.status, title=exc.title, detail=exc.detail)


def _record_refusal(request: Request, exc: TrustdeskError) -> None:
    """A refused caller who showed credentials leaves one audit entry and nothing else: the
    request's own transaction is already rolled back, so this one stands alone."""
    principal = getattr(request.state, "principal", None)
    if principal is None and not request.headers.get("Authorization"):
        return  # anonymous traffic without credentials is not worth a chain entry
    actor = (
        Actor(principal.kind, principal.name, request.state.request_id)
        if principal
        else Actor("anonymous", "bearer-token", request.state.request_id)
    )
    with request.app.state.container.db.transaction() as session:
        audit.record(
            session,
            actor=actor,
            action="access.denied",
            object_type="route",
            object_id=request.url.path[:100],
            reason=exc.audit_reason if isinstance(exc, AuthenticationFailed) else exc.detail,
            details={"method": request.method, "status": exc.status},
            clock=request.app.state.container.clock,
        )


def install(app: FastAPI) -> None:
    @app.exception_handler(TrustdeskError)
    async def _domain(request: Request, exc: TrustdeskError) -> Response:
        if isinstance(exc, Forbidden | AuthenticationFailed):
            await run_in_threadpool(_record_refusal, request, exc)  # a DB write: never on the loop
        if _is_page(request):
            return _page_error(request, exc)
        response = problem(request, status=exc.status, slug=exc.type_slug, title=exc.title, detail=exc.detail, **exc.extensions)
        if isinstance(exc, Overloaded):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"location": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
        if _is_page(request):
            return _error_page(request, status=422, title="The input is not valid", detail=detail)
        return problem(request, status=422, slug="invalid-input", title="The input is not valid", detail=detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _is_page(request):
            title = "Page not found" if exc.status_code == 404 else str(exc.detail)
            detail = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
            page = _error_page(request, status=exc.status_code, title=title, detail=detail)
            page.headers.update(exc.headers or {})
            return page
        response: Response = problem(
            request, status=exc.status_code, slug=f"http-{exc.status_code}", title=str(exc.detail), detail=str(exc.detail)
        )
        response.headers.update(exc.headers or {})  # e.g. the router's Allow on a 405
        return response

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        """A value the database refuses as data (PostgreSQL: a NUL character in text) came from
        the caller: bad input, not our fault. The request's transaction is rolled back."""
        log.warning("input refused by the database on %s: %s", request.url.path, type(exc.orig).__name__)
        refusal = InvalidInput("A value in the request cannot be stored or searched for (a NUL character in text, say).")
        if _is_page(request):
            return _page_error(request, refusal)
        return problem(request, status=refusal.status, slug=refusal.type_slug, title=refusal.title, detail=refusal.detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _is_page(request):
            return _error_page(
                request,
                status=500,
                title="Something went wrong",
                detail="Something went wrong on our side; nothing was changed. Quote the request id when reporting it.",
            )
        return problem(
            request,
            status=500,
            slug="internal",
            title="Internal error",
            detail="Something went wrong on our side; nothing was changed. Quote the request id when reporting it.",
        )
