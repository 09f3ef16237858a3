from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.identity.permissions import Permission, Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=12, max_length=1000)
    roles: list[Role] = Field(min_length=1)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    email: str
    roles: list[Role]
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None
    locked_until: datetime | None


class UserCreated(UserRead):
    totp_uri: str = Field(description="Shown once: enrol it in an authenticator app.")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=2000)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=100)
    scopes: list[Permission] = Field(min_length=1)
    days: int = Field(90, ge=1, le=366)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: list[Permission]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once; only its hash is kept.")


class Me(BaseModel):
    kind: str
    name: str
    roles: list[Role]
    permissions: list[Permission]
