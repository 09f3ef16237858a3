from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from trustdesk.core.identity import service
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.identity.schemas import (
    Me,
    Reason,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserCreated,
    UserRead,
)
from trustdesk.core.ids import RowId
from trustdesk.http.deps import (
    ContainerDep,
    SessionDep,
    actor_of,
    current_principal,
    require,
)

router = APIRouter(tags=["identity"])
UsersAdmin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
TokensAdmin = Annotated[Principal, Depends(require(Permission.TOKENS_MANAGE))]


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    return Me(kind=principal.kind, name=principal.name, roles=sorted(principal.roles), permissions=sorted(principal.permissions))


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, _: UsersAdmin) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(session)]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(
    body: UserCreate, request: Request, session: SessionDep, container: ContainerDep, principal: UsersAdmin
) -> UserCreated:
    user = service.create_user(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return UserCreated(**UserRead.model_validate(user).model_dump(), totp_uri=service.totp_uri(user))


@router.post("/users/{username}/disable", response_model=UserRead)
def disable_user(
    username: str, body: Reason, request: Request, session: SessionDep, container: ContainerDep, principal: UsersAdmin
) -> UserRead:
    user = service.disable_user(
        session, actor=actor_of(request, principal), clock=container.clock, username=username, reason=body.reason
    )
    return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(session: SessionDep, _: TokensAdmin) -> list[TokenRead]:
    return [TokenRead.model_validate(t) for t in service.list_tokens(session)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate, request: Request, session: SessionDep, container: ContainerDep, principal: TokensAdmin
) -> TokenCreated:
    secret, token = service.create_token(
        session, actor=actor_of(request, principal), clock=container.clock, grantor=principal, **body.model_dump()
    )
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.post("/tokens/{token_id}/revoke", response_model=TokenRead)
def revoke_token(
    token_id: RowId, body: Reason, request: Request, session: SessionDep, container: ContainerDep, principal: TokensAdmin
) -> TokenRead:
    token = service.revoke_token(
        session, actor=actor_of(request, principal), clock=container.clock, token_id=token_id, reason=body.reason
    )
    return TokenRead.model_validate(token)
