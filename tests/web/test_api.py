from __future__ import annotations

from sqlalchemy import func, select

from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity.permissions import Permission, Role

PROBLEM = "application/problem+json"


def _entries(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_health_readiness_and_metrics(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    client.get("/healthz")
    metrics = client.get("/metrics").text
    assert 'trustdesk_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics


def test_openapi_document_is_served(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/audit" in doc["paths"] and "/api/v1/users" in doc["paths"]


def test_request_ids_are_echoed_or_made(client) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc12345-req"}).headers["X-Request-ID"] == "abc12345-req"
    assert len(client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"]) == 32


def test_no_credentials_is_a_problem_document(client) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/authentication-failed") and body["status"] == 401 and body["request_id"]


def test_an_expired_token_gets_a_clear_error(client, staff, clock, db) -> None:
    token = staff.token(Permission.AUDIT_READ, days=1)
    clock.advance(days=3)
    response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    with db.transaction() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "access.denied" and token not in (last.reason or "")


def test_a_forbidden_role_changes_nothing(client, staff, db) -> None:
    reviewer = staff.create(Role.REVIEWER)
    csrf = staff.sign_in(client, reviewer)
    before = _entries(db)
    response = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={"username": "mallory", "display_name": "M", "email": "m@example.org", "password": "x" * 14, "roles": ["admin"]},
    )
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert "users:manage" in response.json()["detail"]
    assert _entries(db) == before + 1  # the refusal itself, and nothing else
    with db.transaction() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "access.denied" and last.actor == f"staff:{reviewer.username}"


def test_admin_creates_a_user_through_the_api(client, staff) -> None:
    admin = staff.create(Role.ADMIN)
    csrf = staff.sign_in(client, admin)
    response = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={
            "username": "lena",
            "display_name": "Lena",
            "email": "lena@example.org",
            "password": "y" * 14,
            "roles": ["legal_officer"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["totp_uri"].startswith("otpauth://totp/")
    assert "password" not in response.text


def test_cookie_writes_need_the_csrf_token(client, staff, db) -> None:
    admin = staff.create(Role.ADMIN)
    staff.sign_in(client, admin)
    before = _entries(db)
    response = client.post("/api/v1/tokens", json={"name": "svc", "scopes": ["events:ingest"]})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert _entries(db) == before + 1


def test_invalid_body_is_422_with_each_error(client, staff) -> None:
    token = staff.token(Permission.TOKENS_MANAGE)
    response = client.post(
        "/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}, json={"name": "x", "scopes": ["no:such"], "days": 0}
    )
    assert response.status_code == 422
    locations = {e["location"] for e in response.json()["errors"]}
    assert {"body.name", "body.days"} <= locations and any(loc.startswith("body.scopes") for loc in locations)


def test_audit_pages_with_a_cursor(client, staff) -> None:
    token = staff.token(Permission.AUDIT_READ, Permission.TOKENS_MANAGE)
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        client.post("/api/v1/tokens", headers=headers, json={"name": f"svc-{i}", "scopes": ["audit:read"]})
    first = client.get("/api/v1/audit?limit=3&action=token.create", headers=headers).json()
    second = client.get(f"/api/v1/audit?limit=3&action=token.create&cursor={first['next_cursor']}", headers=headers).json()
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert len(seqs) == 6 and seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 6
    assert client.get("/api/v1/audit?cursor=!!!", headers=headers).status_code == 422


def test_audit_verify_over_the_api(client, staff) -> None:
    token = staff.token(Permission.AUDIT_READ)
    body = client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["ok"] is True and body["checked"] >= 1


def test_revoking_a_token_locks_it_out(client, staff) -> None:
    admin_token = staff.token(Permission.TOKENS_MANAGE, Permission.AUDIT_READ)  # a token grants only what it holds
    headers = {"Authorization": f"Bearer {admin_token}"}
    created = client.post("/api/v1/tokens", headers=headers, json={"name": "ingest", "scopes": ["audit:read"]}).json()
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 200
    client.post(f"/api/v1/tokens/{created['id']}/revoke", headers=headers, json={"reason": "rotated"})
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {created['token']}"}).status_code == 401
