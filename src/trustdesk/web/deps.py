"""Request-scoped dependencies: the unit of work and the caller. Authentication and
authorization happen here and nowhere else in the web layer."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.errors import AuthenticationFailed, Forbidden
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.web.container import Container

SESSION_COOKIE = "td_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_container(request: Request) -> Container:
    return request.app.state.container


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it
    raises, so bad input changes nothing."""
    session = get_container(request).db.session()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def _principal_from_request(request: Request, session: Session, form_csrf: str | None = None) -> Principal | None:
    container = get_container(request)
    auth = request.headers.get("Authorization", "")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        return identity.authenticate_token(session, clock=container.clock, secret=secret.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = identity.resolve_console_session(session, clock=container.clock, secret=cookie)
        if principal is not None and request.method not in SAFE_METHODS:
            request.state.principal = principal  # so that a refusal is recorded against them
            _check_csrf(request, principal, form_csrf)
        return principal
    return None


def _check_csrf(request: Request, principal: Principal, form_csrf: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER) or form_csrf
    if not sent or not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
        raise Forbidden("The form is stale or was not sent from the console (CSRF check failed). Reload the page and try again.")


async def _form_csrf(request: Request) -> str | None:
    """Plain HTML forms carry the CSRF token as a field; htmx sends it as a header."""
    if request.method in SAFE_METHODS or CSRF_HEADER in request.headers:
        return None
    if not request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get("csrf_token")
    return value if isinstance(value, str) else None


# The principal dependencies are plain `def`s on purpose: FastAPI runs them in a worker thread.
# They read the database, and on SQLite a read inside BEGIN IMMEDIATE can wait for the write
# lock; waiting on the event loop would stall the very request that holds the lock.
FormCsrf = Annotated[str | None, Depends(_form_csrf)]


def current_principal(request: Request, session: Annotated[Session, Depends(get_session)], form_csrf: FormCsrf) -> Principal:
    principal = _principal_from_request(request, session, form_csrf)
    if principal is None:
        raise AuthenticationFailed("Sign in, or send an API token.")
    request.state.principal = principal
    return principal


def optional_principal(request: Request, session: Annotated[Session, Depends(get_session)], form_csrf: FormCsrf) -> Principal | None:
    try:
        return _principal_from_request(request, session, form_csrf)
    except AuthenticationFailed:
        return None


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency that admits only callers holding `permission`."""

    def _dependency(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        request.state.principal = principal
        authorize(principal, permission)
        return principal

    return _dependency


def actor_of(request: Request, principal: Principal) -> Actor:
    return Actor(principal.kind, principal.name, getattr(request.state, "request_id", None))


async def read_form(request: Request) -> FormData:
    """Reads a form body on the event loop, so that the handler itself can be a plain `def`
    that FastAPI runs in a worker thread: database work must never run on the loop."""
    return await request.form()


SessionDep = Annotated[Session, Depends(get_session)]
FormDep = Annotated[FormData, Depends(read_form)]
ContainerDep = Annotated[Container, Depends(get_container)]
