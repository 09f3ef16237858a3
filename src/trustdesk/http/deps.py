"""Request-scoped dependencies: the unit of work and the caller. Authentication and
authorization happen here and nowhere else in the web layer."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from trustdesk.core.audit import Actor
from trustdesk.core.errors import AuthenticationFailed, Forbidden, NotStored
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.http.container import Container

log = logging.getLogger("trustdesk.web")
SESSION_COOKIE = "td_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_container(request: Request) -> Container:
    return request.app.state.container


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it
    raises, so bad input changes nothing.

    Used only through `Depends(get_session, scope="function")` (`SessionDep` and the principal
    dependencies): FastAPI then runs this exit step after the handler has built its response
    and *before* a byte of it is sent. A success status therefore means the commit happened,
    and a commit that fails propagates to the problem handler as a 5xx: never a 2xx for a
    change that was not stored. (With the default request scope the exit step runs after the
    response has gone out.)"""
    session = get_container(request).db.session()
    try:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        try:
            session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("commit failed on %s %s", request.method, request.url.path)
            raise NotStored(
                "The change could not be stored (the database refused the commit); nothing was changed. Try again."
            ) from exc
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
# Commit before acknowledging: see `get_session`. Every use of the session goes through this.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_principal(request: Request, session: SessionDep, form_csrf: FormCsrf) -> Principal:
    principal = _principal_from_request(request, session, form_csrf)
    if principal is None:
        raise AuthenticationFailed("Sign in, or send an API token.")
    request.state.principal = principal
    return principal


def optional_principal(request: Request, session: SessionDep, form_csrf: FormCsrf) -> Principal | None:
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


def require_outside_transaction(permission: Permission) -> Callable[..., Principal]:
    """`require` for handlers that do long CPU work (hashing an upload) before they touch the
    database: the caller is checked in a short transaction of its own, so that the request's
    transaction starts only when the handler first uses its session. On SQLite every
    transaction holds the write lock (BEGIN IMMEDIATE): held through a hash, it would make
    every other request wait for it."""

    def _dependency(request: Request, form_csrf: FormCsrf) -> Principal:
        with get_container(request).db.transaction() as session:
            principal = _principal_from_request(request, session, form_csrf)
        if principal is None:
            raise AuthenticationFailed("Sign in, or send an API token.")
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


FormDep = Annotated[FormData, Depends(read_form)]
ContainerDep = Annotated[Container, Depends(get_container)]
