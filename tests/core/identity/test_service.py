from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidInput,
)
from trustdesk.core.identity import service
from trustdesk.core.identity.permissions import (
    ROLE_PERMISSIONS,
    SECOND_FACTOR_REQUIRED,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    authorize,
    permissions_for,
)


def _login(db, clock, staff, user, *, password=PASSWORD, code=None):
    with db.transaction() as session:
        return service.login(
            session,
            clock=clock,
            username=user.username,
            password=password,
            totp_code=code if code is not None else staff.code(user),
            max_failures=5,
            lockout_minutes=15,
        )


def _audit_count(db, action: str) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def test_password_and_current_code_sign_in(db, clock, staff) -> None:
    user = staff.create(Role.REVIEWER)
    outcome = _login(db, clock, staff, user)
    assert outcome.user is not None and outcome.error is None
    assert _audit_count(db, "login.ok") == 1


def test_password_is_stored_as_argon2(db, staff) -> None:
    user = staff.create(Role.AUDITOR)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


@pytest.mark.parametrize("password, code", [("wrong password!", None), (PASSWORD, "000000"), (PASSWORD, "")])
def test_a_wrong_password_or_code_fails_and_is_audited(db, clock, staff, password, code) -> None:
    user = staff.create(Role.REVIEWER)
    outcome = _login(db, clock, staff, user, password=password, code=code)
    assert outcome.user is None and isinstance(outcome.error, AuthenticationFailed)
    assert "wrong" in outcome.error.detail
    assert _audit_count(db, "login.fail") == 1


def test_a_code_cannot_be_replayed(db, clock, staff) -> None:
    user = staff.create(Role.REVIEWER)
    code = staff.code(user)
    assert _login(db, clock, staff, user, code=code).user is not None
    assert _login(db, clock, staff, user, code=code).user is None


def test_repeated_failures_lock_the_account_and_the_message_names_the_rule(db, clock, staff) -> None:
    user = staff.create(Role.LEGAL_OFFICER)
    for _ in range(5):
        outcome = _login(db, clock, staff, user, password="not the password")
    assert isinstance(outcome.error, AuthenticationFailed), "the lock is not announced: that would confirm the account"
    assert "After 5 failed attempts in a row, sign-in pauses for 15 minutes" in outcome.error.detail
    # even the right credentials are refused while locked
    assert _login(db, clock, staff, user).user is None
    clock.advance(minutes=16)
    assert _login(db, clock, staff, user).user is not None


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(db, clock, staff) -> None:
    with db.transaction() as session:
        outcome = service.login(
            session, clock=clock, username="nobody", password="x" * 12, totp_code="123456", max_failures=5, lockout_minutes=15
        )
    assert outcome.error.detail.startswith("The username, password or one-time code is wrong.")


def test_a_disabled_user_cannot_sign_in(db, clock, staff) -> None:
    user = staff.create(Role.REVIEWER)
    with db.transaction() as session:
        service.disable_user(session, actor=TEST_ACTOR, clock=clock, username=user.username, reason="left the team")
    outcome = _login(db, clock, staff, user)
    assert outcome.user is None and "disabled" in outcome.error.detail


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"username": "Bad Name"}, "username"),
        ({"password": "short"}, "12 characters"),
        ({"roles": []}, "role"),
        ({"email": "not-an-address"}, "e-mail"),
    ],
)
def test_bad_user_input_is_refused_and_creates_nothing(db, clock, kwargs, message) -> None:
    values = {
        "username": "valid",
        "display_name": "V",
        "email": "v@example.org",
        "password": PASSWORD,
        "roles": [Role.TRIAGE],
    } | kwargs
    with pytest.raises(InvalidInput, match=message):
        with db.transaction() as session:
            service.create_user(session, actor=TEST_ACTOR, clock=clock, **values)
    with db.transaction() as session:
        assert service.list_users(session) == []


def test_a_duplicate_username_is_a_conflict(db, staff) -> None:
    staff.create(Role.TRIAGE, username="sam")
    with pytest.raises(Conflict):
        staff.create(Role.TRIAGE, username="sam")


def test_tokens_are_hashed_scoped_expiring_and_revocable(db, clock, staff) -> None:
    secret = staff.token(Permission.EVENTS_INGEST, days=1)
    with db.transaction() as session:
        principal = service.authenticate_token(session, clock=clock, secret=secret)
        stored = service.list_tokens(session)[0]
    assert principal.permissions == {Permission.EVENTS_INGEST}
    assert secret not in stored.secret_hash
    clock.advance(days=2)
    with db.transaction() as session, pytest.raises(AuthenticationFailed, match="expired"):
        service.authenticate_token(session, clock=clock, secret=secret)


def test_a_revoked_token_is_refused(db, clock, staff) -> None:
    secret = staff.token(Permission.MATCH_LOOKUP)
    with db.transaction() as session:
        token = service.list_tokens(session)[0]
        service.revoke_token(session, actor=TEST_ACTOR, clock=clock, token_id=token.id, reason="leaked")
    with db.transaction() as session, pytest.raises(AuthenticationFailed, match="revoked"):
        service.authenticate_token(session, clock=clock, secret=secret)


def test_every_role_needs_a_second_factor_and_has_permissions() -> None:
    assert SECOND_FACTOR_REQUIRED == frozenset(Role)
    assert all(ROLE_PERMISSIONS[role] for role in Role)


def test_authorization_is_by_permission() -> None:
    triage = Principal(kind=PrincipalKind.STAFF, id=1, name="t", permissions=permissions_for(frozenset({Role.TRIAGE})))
    authorize(triage, Permission.TRIAGE)
    with pytest.raises(Forbidden, match="disclosure:approve"):
        authorize(triage, Permission.DISCLOSURE_APPROVE)
