"""Console pages for administrators: staff accounts and service tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal, Role
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render

router = APIRouter(prefix="/console", include_in_schema=False)
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


def _page(request: Request, session, principal: Principal, **extra) -> HTMLResponse:  # type: ignore[no-untyped-def]
    request.state.principal = principal
    return render(
        request,
        "console/staff.html",
        active="users",
        users=identity.list_users(session),
        tokens=identity.list_tokens(session),
        roles=list(Role),
        scopes=[p for p in Permission if principal.can(p)],
        **extra,
    )


@router.get("/users", response_class=HTMLResponse)
def staff_page(request: Request, session: SessionDep, principal: Admin) -> HTMLResponse:
    return _page(request, session, principal)


@router.post("/users", response_class=HTMLResponse)
def create_staff(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Admin,
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    roles: Annotated[list[Role], Form()],
) -> HTMLResponse:
    try:
        with session.begin_nested():
            user = identity.create_user(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                username=username.strip().lower(),
                display_name=display_name,
                email=email,
                password=password,
                roles=roles,
            )
    except TrustdeskError as exc:
        return _page(request, session, principal, error=exc.detail)
    return _page(
        request,
        session,
        principal,
        notice=f"Created {user.username}. Enrol this in their authenticator (shown once):",
        secret=identity.totp_uri(user),
    )


@router.post("/users/{username}/disable", response_class=HTMLResponse)
def disable_staff(
    request: Request,
    username: str,
    session: SessionDep,
    container: ContainerDep,
    principal: Admin,
    reason: Annotated[str, Form()],
) -> HTMLResponse:
    try:
        with session.begin_nested():
            identity.disable_user(
                session, actor=actor_of(request, principal), clock=container.clock, username=username, reason=reason
            )
    except TrustdeskError as exc:
        return _page(request, session, principal, error=exc.detail)
    return _page(request, session, principal, notice=f"Disabled {username}.")


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(require(Permission.TOKENS_MANAGE))],
    name: Annotated[str, Form()],
    scopes: Annotated[list[Permission], Form()],
    days: Annotated[int, Form()] = 90,
) -> HTMLResponse:
    try:
        with session.begin_nested():
            secret, token = identity.create_token(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                grantor=principal,
                name=name,
                scopes=scopes,
                days=days,
            )
    except TrustdeskError as exc:
        return _page(request, session, principal, error=exc.detail)
    return _page(request, session, principal, notice=f"Token {token.name} created; copy it now, it is shown once:", secret=secret)
