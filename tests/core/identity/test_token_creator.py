"""A token holds no more than its creator holds now (the gap issue #14 left): its scopes are
narrowed, each time it is used, to what its staff creator's roles give today; a token of a
creator who is disabled or gone is refused like an unknown one; the operator's tokens keep
their scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.cli.test_cli import run  # noqa: F401  (the CLI against a database of its own)
from tests.conftest import TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import make_engine
from trustdesk.core.errors import AuthenticationFailed
from trustdesk.core.identity import service
from trustdesk.core.identity.models import ApiToken, StaffUser
from trustdesk.core.identity.permissions import Permission, Role

BANKS, AUDIT = Permission.BANKS_MANAGE, Permission.AUDIT_READ


def _made_by(db, clock, user: StaffUser, *scopes: Permission) -> str:
    with db.transaction() as session:
        grantor = service.staff_principal(session.get(StaffUser, user.id))
        secret, _ = service.create_token(
            session, actor=TEST_ACTOR, clock=clock, grantor=grantor, name="svc", scopes=list(scopes), days=30
        )
    return secret


def _set_roles(db, user: StaffUser, *roles: Role) -> None:
    with db.transaction() as session:
        session.get(StaffUser, user.id).roles = sorted(str(r) for r in roles)


def _holds(db, clock, secret: str) -> frozenset[Permission]:
    with db.transaction() as session:
        return service.authenticate_token(session, clock=clock, secret=secret).permissions


def _denials(db) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied").order_by(AuditEntry.seq)))


def test_a_token_loses_the_scopes_of_a_role_its_creator_loses_and_regains_them_with_it(db, clock, staff) -> None:
    creator = staff.create(Role.ADMIN, Role.AUDITOR)
    secret = _made_by(db, clock, creator, AUDIT, BANKS)
    assert _holds(db, clock, secret) == {AUDIT, BANKS}
    _set_roles(db, creator, Role.AUDITOR)  # audit:read is still the auditor's; banks:manage was the admin's alone
    assert _holds(db, clock, secret) == {AUDIT}
    _set_roles(db, creator, Role.TRIAGE)
    assert _holds(db, clock, secret) == frozenset()
    _set_roles(db, creator, Role.ADMIN)  # the rule is computed at each use: the role back, the scopes back
    assert _holds(db, clock, secret) == {AUDIT, BANKS}


def test_a_narrowed_token_is_refused_what_it_lost_through_the_api(client, db, clock, staff) -> None:
    creator = staff.create(Role.ADMIN)
    headers = {"Authorization": f"Bearer {_made_by(db, clock, creator, AUDIT, BANKS)}"}
    assert client.get("/api/v1/audit", headers=headers).status_code == 200
    _set_roles(db, creator, Role.TRIAGE)
    assert client.get("/api/v1/me", headers=headers).json()["permissions"] == []
    refused = client.get("/api/v1/audit", headers=headers)
    assert refused.status_code == 403 and "audit:read" in refused.json()["detail"]


def test_a_token_of_a_disabled_creator_is_refused_like_an_unknown_token_and_the_audit_log_says_why(
    client, db, clock, staff
) -> None:
    creator = staff.create(Role.ADMIN)
    secret = _made_by(db, clock, creator, AUDIT)
    with db.transaction() as session:
        service.disable_user(session, actor=TEST_ACTOR, clock=clock, username=creator.username, reason="left")
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    unknown = client.get("/api/v1/me", headers={"Authorization": "Bearer td_not-a-token"})
    assert refused.status_code == unknown.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    same = ("type", "title", "status", "detail", "instance")
    assert {k: refused.json()[k] for k in same} == {k: unknown.json()[k] for k in same}
    assert set(refused.json()) == set(unknown.json())
    first, second = _denials(db)
    assert first.actor == "anonymous:bearer-token"
    assert f"its creator staff:{creator.username} is disabled" in first.reason
    assert second.reason == "The API token is not valid."


def test_a_token_of_a_deleted_creator_or_of_a_name_taken_again_is_refused(db, clock, staff) -> None:
    creator = staff.create(Role.ADMIN, username="gone")
    secret = _made_by(db, clock, creator, AUDIT)
    with db.transaction() as session:
        session.execute(delete(StaffUser).where(StaffUser.id == creator.id))
    with db.transaction() as session, pytest.raises(AuthenticationFailed, match="not valid") as refused:
        service.authenticate_token(session, clock=clock, secret=secret)
    assert "staff:gone no longer exists" in refused.value.audit_reason
    clock.advance(minutes=1)
    staff.create(Role.ADMIN, username="gone")  # another person, given the same name later
    with db.transaction() as session, pytest.raises(AuthenticationFailed, match="not valid") as refused:
        service.authenticate_token(session, clock=clock, secret=secret)
    assert "made after the token" in refused.value.audit_reason


def test_a_token_made_by_a_token_answers_to_the_same_creator(client, db, clock, staff) -> None:
    creator = staff.create(Role.ADMIN)
    maker = {"Authorization": f"Bearer {_made_by(db, clock, creator, Permission.TOKENS_MANAGE, AUDIT, BANKS)}"}
    made = client.post("/api/v1/tokens", headers=maker, json={"name": "child", "scopes": ["audit:read", "banks:manage"]})
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == f"staff:{creator.username}"
    child = made.json()["token"]
    _set_roles(db, creator, Role.AUDITOR)
    assert _holds(db, clock, child) == {AUDIT}
    with db.transaction() as session:
        service.disable_user(session, actor=TEST_ACTOR, clock=clock, username=creator.username, reason="left")
    for secret in (maker["Authorization"].removeprefix("Bearer "), child):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_mark_is_the_grantors_kind_not_the_actors_words(db, clock, staff) -> None:
    """TEST_ACTOR is `test:pytest`: the token records who granted it, as authorize_grant saw them."""
    creator = staff.create(Role.ADMIN)
    _made_by(db, clock, creator, AUDIT)
    staff.token(AUDIT)  # granted by the operator principal `pytest`
    with db.transaction() as session:
        marks = [t.created_by for t in service.list_tokens(session)]
    assert marks == [f"staff:{creator.username}", "cli:pytest"]


@pytest.mark.parametrize("mark", ["token:old-maker", "test:pytest", "staff:", "cli:", "nobody"])
def test_a_token_with_a_mark_trustdesk_does_not_make_is_refused(db, clock, staff, mark) -> None:
    secret = staff.token(AUDIT)
    with db.transaction() as session:
        session.scalar(select(ApiToken)).created_by = mark
    with db.transaction() as session, pytest.raises(AuthenticationFailed, match="not valid") as refused:
        service.authenticate_token(session, clock=clock, secret=secret)
    assert mark in refused.value.audit_reason


def test_an_operator_token_keeps_its_scopes_with_no_staff_at_all(db, clock, staff) -> None:
    secret = staff.token(Permission.DISCLOSURE_APPROVE, Permission.EVENTS_INGEST)
    assert _holds(db, clock, secret) == {Permission.DISCLOSURE_APPROVE, Permission.EVENTS_INGEST}


def test_a_token_made_at_the_cli_is_marked_as_the_operators_and_keeps_its_scopes(run) -> None:  # noqa: F811
    created = run("tokens", "create", "legal-bot", "--scope", "disclosure:approve", "--scope", "requests:handle", "--days", "7")
    assert created.exit_code == 0, created.output
    secret = created.output.split()[-1]
    engine = make_engine(run.url)
    try:
        with Session(engine) as session:
            [token] = session.scalars(select(ApiToken))
            assert token.created_by.startswith("cli:")
            principal = service.authenticate_token(session, clock=FrozenClock(token.created_at), secret=secret)
    finally:
        engine.dispose()
    assert principal.permissions == {Permission.DISCLOSURE_APPROVE, Permission.REQUESTS_HANDLE}
