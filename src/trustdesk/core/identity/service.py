"""Staff accounts, console sessions and service tokens. Keyword-only functions, session first;
they flush and never commit."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from trustdesk.core.identity.models import ApiToken, ConsoleSession, StaffUser
from trustdesk.core.identity.permissions import (
    Permission,
    Principal,
    PrincipalKind,
    Role,
    authorize,
    authorize_grant,
    permissions_for,
    token_creator_mark,
    token_id_of,
    token_permissions,
    token_staff_creator,
)

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
TOKEN_PREFIX = "td_"
INVALID_TOKEN = "The API token is not valid."


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _roles(values: list[str]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values)


def staff_principal(user: StaffUser, csrf_token: str | None = None) -> Principal:
    roles = _roles(user.roles)
    return Principal(
        kind=PrincipalKind.STAFF,
        id=user.id,
        name=user.username,
        permissions=permissions_for(roles),
        roles=roles,
        csrf_token=csrf_token,
    )


# -- staff accounts ---------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    username: str,
    display_name: str,
    email: str,
    password: str,
    roles: list[Role],
    totp_secret: str | None = None,
    is_demo: bool = False,
) -> StaffUser:
    """A new staff account with its TOTP secret (returned on the object: show it once)."""
    if not USERNAME.match(username):
        raise InvalidInput("A username is 2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter.")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    if not roles:
        raise InvalidInput("A staff account needs at least one role.")
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an e-mail address.")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"A user named '{username}' already exists.")
    user = StaffUser(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=_hasher.hash(password),
        totp_secret=totp_secret or pyotp.random_base32(),
        roles=sorted(str(r) for r in roles),
        created_at=clock.now(),
        is_demo=is_demo,
        failed_logins=0,
        totp_last_step=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="staff_user",
        object_id=user.id,
        details={"username": username, "roles": user.roles},
        change={"username": username, "roles": user.roles},
        clock=clock,
    )
    return user


def get_user(session: Session, *, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"No staff user named '{username}'.")
    return user


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def disable_user(session: Session, *, actor: Actor, clock: Clock, username: str, reason: str) -> StaffUser:
    user = get_user(session, username=username)
    if user.disabled_at is not None:
        raise Conflict(f"'{username}' is already disabled.")
    user.disabled_at = clock.now()
    for live in session.scalars(
        select(ConsoleSession).where(ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None))
    ):
        live.ended_at = clock.now()
    audit.record(
        session, actor=actor, action="user.disable", object_type="staff_user", object_id=user.id, reason=reason, clock=clock
    )
    return user


def totp_uri(user: StaffUser, issuer: str = "Trustdesk") -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=issuer)


# -- login ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt. Failures are outcomes, not exceptions, so that the
    boundary commits the failure counter and its audit entry before it answers 401/403."""

    user: StaffUser | None
    error: AuthenticationFailed | Forbidden | None


def sign_in_failed(identifier: str, *, max_failures: int, lockout_minutes: int) -> AuthenticationFailed:
    """The one answer to every failed sign-in, for staff and officers alike: a wrong password
    or code, an unknown account and a locked one must look the same, or the sign-in form
    tells a stranger which accounts exist and which are locked. It names the lockout rule,
    so that someone locked out knows to wait."""
    return AuthenticationFailed(
        f"The {identifier}, password or one-time code is wrong. "
        f"After {max_failures} failed attempts in a row, sign-in pauses for {lockout_minutes} minutes."
    )


def _check_second_factor(user: StaffUser, code: str, now: datetime) -> bool:
    return check_totp(user, code, now)


def check_totp(user: Any, code: str, now: datetime) -> bool:
    """Accept the current 30-second step or its neighbours, but never a step already used:
    a code seen over someone's shoulder cannot be replayed. `user` is anything with
    `totp_secret` and `totp_last_step` (staff, and the officers of the authority portal)."""
    totp = pyotp.TOTP(user.totp_secret)
    step_now = totp.timecode(now)
    for step in (step_now - 1, step_now, step_now + 1):
        if step > user.totp_last_step and secrets.compare_digest(totp.generate_otp(step), code.strip()):
            user.totp_last_step = step
            return True
    return False


def login(
    session: Session,
    *,
    clock: Clock,
    username: str,
    password: str,
    totp_code: str,
    max_failures: int,
    lockout_minutes: int,
    request_id: str | None = None,
) -> LoginOutcome:
    """One Argon2 verification and one answer for every failure (see `sign_in_failed`); that
    the account is disabled is told only to whoever gives its right password and code. The
    audit entry always records the real reason."""
    now = clock.now()
    actor = Actor("anonymous", username[:64] or "-", request_id)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    generic = sign_in_failed("username", max_failures=max_failures, lockout_minutes=lockout_minutes)
    if user is None or (user.locked_until is not None and user.locked_until > now):
        _hasher_dummy_verify(password)
        reason = "unknown user" if user is None else f"account locked until {user.locked_until:%H:%M} UTC"
        audit.record(
            session,
            actor=actor,
            action="login.fail",
            object_type="staff_user",
            object_id=user.id if user else None,
            reason=reason,
            clock=clock,
        )
        return LoginOutcome(None, generic)
    if not (_password_ok(user, password) and _check_second_factor(user, totp_code, now)):
        _count_failure(session, user=user, actor=actor, clock=clock, max_failures=max_failures, lockout_minutes=lockout_minutes)
        return LoginOutcome(None, generic)
    user.failed_logins, user.locked_until = 0, None
    if user.disabled_at is not None:
        audit.record(
            session,
            actor=actor,
            action="login.fail",
            object_type="staff_user",
            object_id=user.id,
            reason="right password and code, but the account is disabled",
            clock=clock,
        )
        return LoginOutcome(None, Forbidden("This account is disabled. Ask an administrator."))
    user.last_login_at = now
    audit.record(
        session,
        actor=Actor("staff", user.username, request_id),
        action="login.ok",
        object_type="staff_user",
        object_id=user.id,
        clock=clock,
    )
    return LoginOutcome(user, None)


def _count_failure(
    session: Session, *, user: StaffUser, actor: Actor, clock: Clock, max_failures: int, lockout_minutes: int
) -> None:
    user.failed_logins += 1
    reason = "wrong password or one-time code"
    if user.failed_logins >= max_failures:
        user.locked_until = clock.now() + timedelta(minutes=lockout_minutes)
        user.failed_logins = 0
        reason += f"; locked for {lockout_minutes} minutes"
    audit.record(
        session, actor=actor, action="login.fail", object_type="staff_user", object_id=user.id, reason=reason, clock=clock
    )


def _password_ok(user: StaffUser, password: str) -> bool:
    return password_matches(user.password_hash, password)


def hash_password(password: str) -> str:
    """Argon2id, as for staff; shared with the officers of the authority portal."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def spend_dummy_verify(password: str) -> None:
    _hasher_dummy_verify(password)


def _hasher_dummy_verify(password: str) -> None:
    """Spend the same time on an unknown username as on a known one."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


# -- console sessions -------------------------------------------------------------------------


def open_console_session(session: Session, *, clock: Clock, user: StaffUser, hours: float) -> tuple[str, ConsoleSession]:
    secret = secrets.token_urlsafe(32)
    live = ConsoleSession(
        secret_hash=_sha256(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(hours=hours),
    )
    session.add(live)
    session.flush()
    return secret, live


def resolve_console_session(session: Session, *, clock: Clock, secret: str) -> Principal | None:
    live = session.scalar(select(ConsoleSession).where(ConsoleSession.secret_hash == _sha256(secret)))
    if live is None or live.ended_at is not None or live.expires_at <= clock.now():
        return None
    user = session.get(StaffUser, live.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return staff_principal(user, csrf_token=live.csrf_token)


def end_console_session(session: Session, *, clock: Clock, secret: str) -> None:
    live = session.scalar(select(ConsoleSession).where(ConsoleSession.secret_hash == _sha256(secret)))
    if live is not None and live.ended_at is None:
        live.ended_at = clock.now()


# -- service tokens ---------------------------------------------------------------------------


def create_token(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    grantor: Principal,
    name: str,
    scopes: list[Permission],
    days: int,
    agency_id: int | None = None,
) -> tuple[str, ApiToken]:
    """Returns the plaintext once; only its hash is stored. `grantor` is who makes the
    token: it needs TOKENS_MANAGE and must hold every scope it grants. The token records whom
    it answers to (`created_by`, see `permissions.token_creator_mark`): the grantor, or the
    creator a grantor token answers to itself."""
    authorize(grantor, Permission.TOKENS_MANAGE)
    authorize_grant(grantor, scopes)
    maker_id = token_id_of(grantor)
    maker = session.get(ApiToken, maker_id) if maker_id is not None else None
    created_by = token_creator_mark(grantor, maker_mark=maker.created_by if maker is not None else None)
    if not scopes:
        raise InvalidInput("A token needs at least one scope.")
    if not 1 <= days <= 366:
        raise InvalidInput("A token lives between 1 and 366 days.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:10],
        secret_hash=_sha256(secret),
        scopes=sorted(str(s) for s in scopes),
        agency_id=agency_id,
        created_by=created_by,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        object_type="api_token",
        object_id=token.id,
        details={"name": name, "scopes": token.scopes},
        clock=clock,
    )
    return secret, token


def authenticate_token(session: Session, *, clock: Clock, secret: str) -> Principal:
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == _sha256(secret)))
    if token is None:
        raise AuthenticationFailed(INVALID_TOKEN)
    if token.revoked_at is not None:
        raise AuthenticationFailed(f"The API token '{token.name}' was revoked on {token.revoked_at:%Y-%m-%d}.")
    if token.expires_at <= clock.now():
        raise AuthenticationFailed(
            f"The API token '{token.name}' expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one."
        )
    return Principal(
        kind=PrincipalKind.TOKEN,
        id=token.id,
        name=token.name,
        permissions=token_permissions((Permission(s) for s in token.scopes), creator_roles=_creator_roles(session, token)),
        agency_id=token.agency_id,
    )


def _creator_roles(session: Session, token: ApiToken) -> frozenset[Role] | None:
    """The roles the token's staff creator holds now (one look-up, nothing cached), or None
    for a token of the operator's. A creator who is disabled or gone, or whose username now
    belongs to an account made after the token, takes the token with them: it is refused
    with the same answer as an unknown token, and only the audit entry says why."""
    try:
        username = token_staff_creator(token.created_by)
    except ValueError as exc:
        raise _refused(token, str(exc)) from None
    if username is None:
        return None
    creator = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if creator is None:
        raise _refused(token, f"its creator staff:{username} no longer exists")
    if creator.disabled_at is not None:
        raise _refused(token, f"its creator staff:{username} is disabled")
    if creator.created_at > token.created_at:
        raise _refused(token, f"the account staff:{username} was made after the token, so is not its creator")
    return _roles(creator.roles)


def _refused(token: ApiToken, why: str) -> AuthenticationFailed:
    return AuthenticationFailed(INVALID_TOKEN, audit_reason=f"API token {token.id} ('{token.name}') refused: {why}.")


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, *, actor: Actor, clock: Clock, token_id: int, reason: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token with id {token_id}.")
    if token.revoked_at is not None:
        raise Conflict(f"Token {token_id} is already revoked.")
    token.revoked_at = clock.now()
    audit.record(
        session, actor=actor, action="token.revoke", object_type="api_token", object_id=token.id, reason=reason, clock=clock
    )
    return token
