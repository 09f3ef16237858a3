"""A token never carries a scope its creator does not hold (issue #14): the rule in
permissions.authorize_grant, and every path that makes tokens (service, API, console, CLI)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.cli.test_cli import run  # noqa: F401  (the CLI against a database of its own)
from tests.conftest import TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.database import make_engine
from trustdesk.core.errors import Forbidden
from trustdesk.core.identity import service
from trustdesk.core.identity.models import ApiToken
from trustdesk.core.identity.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    authorize_grant,
    operator_principal,
    permissions_for,
)


def _staff(*roles: Role) -> Principal:
    return Principal(
        kind=PrincipalKind.STAFF, id=1, name="someone", permissions=permissions_for(frozenset(roles)), roles=frozenset(roles)
    )


@pytest.mark.parametrize("scope", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_a_role_may_grant_a_scope_exactly_when_it_holds_it(role: Role, scope: Permission) -> None:
    grantor = _staff(role)
    if scope in ROLE_PERMISSIONS[role]:
        authorize_grant(grantor, [scope])
    else:
        with pytest.raises(Forbidden, match=str(scope)):
            authorize_grant(grantor, [scope])


def test_the_refusal_names_every_scope_not_held() -> None:
    asked = [Permission.AUDIT_READ, Permission.EMERGENCY_HANDLE, Permission.REQUESTS_HANDLE, Permission.DISCLOSURE_APPROVE]
    with pytest.raises(Forbidden) as refused:
        authorize_grant(_staff(Role.ADMIN), asked)
    assert refused.value.extensions["scopes"] == ["disclosure:approve", "emergency:handle", "requests:handle"]
    assert "audit:read" not in refused.value.detail


def test_the_operator_at_the_shell_may_grant_any_scope() -> None:
    authorize_grant(operator_principal("root"), list(Permission))


def _tokens(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ApiToken))


def test_an_admin_cannot_mint_the_legal_teams_scopes(db, clock, staff) -> None:
    admin = service.staff_principal(staff.create(Role.ADMIN))
    with pytest.raises(Forbidden, match="disclosure:approve, emergency:handle, requests:handle"):
        with db.transaction() as session:
            service.create_token(
                session,
                actor=TEST_ACTOR,
                clock=clock,
                grantor=admin,
                name="escalate",
                days=1,
                scopes=[Permission.EMERGENCY_HANDLE, Permission.REQUESTS_HANDLE, Permission.DISCLOSURE_APPROVE],
            )
    assert _tokens(db) == 0


def test_holding_a_scope_is_not_enough_without_tokens_manage(db, clock, staff) -> None:
    officer = service.staff_principal(staff.create(Role.LEGAL_OFFICER))
    with pytest.raises(Forbidden, match="tokens:manage"), db.transaction() as session:
        service.create_token(
            session, actor=TEST_ACTOR, clock=clock, grantor=officer, name="mine", days=1, scopes=[Permission.REQUESTS_READ]
        )
    assert _tokens(db) == 0


def test_an_admin_mints_what_it_holds(db, clock, staff) -> None:
    admin = service.staff_principal(staff.create(Role.ADMIN))
    with db.transaction() as session:
        _, token = service.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=admin,
            name="ingest",
            days=1,
            scopes=[Permission.AUDIT_READ, Permission.BANKS_MANAGE],
        )
        assert token.scopes == ["audit:read", "banks:manage"]


# -- through the API and the console ----------------------------------------------------------


def test_the_api_refuses_an_admin_session_a_scope_it_lacks_and_the_token_reads_nothing(client, staff, db) -> None:
    csrf = staff.sign_in(client, staff.create(Role.ADMIN))
    body = {"name": "escalate", "scopes": ["emergency:handle", "requests:handle", "disclosure:approve"]}
    refused = client.post("/api/v1/tokens", headers={"X-CSRF-Token": csrf}, json=body)
    assert refused.status_code == 403, refused.text
    assert "disclosure:approve, emergency:handle, requests:handle" in refused.json()["detail"]
    assert _tokens(db) == 0
    allowed = client.post("/api/v1/tokens", headers={"X-CSRF-Token": csrf}, json={"name": "audit", "scopes": ["audit:read"]})
    assert allowed.status_code == 201, allowed.text


def test_a_token_cannot_mint_a_wider_token(client, staff, db) -> None:
    manager = staff.token(Permission.TOKENS_MANAGE, Permission.AUDIT_READ)
    headers = {"Authorization": f"Bearer {manager}"}
    wider = client.post("/api/v1/tokens", headers=headers, json={"name": "wider", "scopes": ["audit:read", "requests:read"]})
    assert wider.status_code == 403 and "requests:read" in wider.json()["detail"]
    same = client.post("/api/v1/tokens", headers=headers, json={"name": "same", "scopes": ["audit:read"]})
    assert same.status_code == 201


def test_the_console_offers_and_grants_only_the_admins_own_scopes(client, staff, db) -> None:
    csrf = staff.sign_in(client, staff.create(Role.ADMIN))
    page = client.get("/console/users").text
    assert 'value="audit:read"' in page and 'value="disclosure:approve"' not in page
    refused = client.post(
        "/console/tokens", data={"csrf_token": csrf, "name": "escalate", "scopes": ["disclosure:approve"], "days": "1"}
    )
    assert "cannot grant scopes they do not hold: disclosure:approve" in refused.text
    assert _tokens(db) == 0


# -- the operator's CLI -------------------------------------------------------------------------


def test_the_cli_grants_any_scope_and_the_grant_is_audited_as_the_operator(run) -> None:  # noqa: F811
    created = run("tokens", "create", "legal-bot", "--scope", "disclosure:approve", "--scope", "requests:handle", "--days", "7")
    assert created.exit_code == 0, created.output
    engine = make_engine(run.url)
    try:
        with engine.connect() as connection:
            [actor] = connection.execute(select(AuditEntry.actor).where(AuditEntry.action == "token.create")).scalars()
    finally:
        engine.dispose()
    assert actor.startswith("cli:")
