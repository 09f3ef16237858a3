"""Input the database refuses as data (PostgreSQL: a NUL character in text) is the caller's bad
input, a 422 problem that changes nothing, not a server error. Found by the conformance run."""

from __future__ import annotations

from sqlalchemy import func, select

from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity.permissions import Permission


def test_a_nul_character_in_a_query_is_bad_input(client, staff) -> None:
    token = staff.token(Permission.AUDIT_READ)
    response = client.get("/api/v1/audit", params={"actor": "a\x00b"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 422), response.text  # SQLite stores NUL; PostgreSQL refuses it
    if response.status_code == 422:
        assert response.headers["content-type"] == "application/problem+json" and response.json()["type"].endswith(
            "/invalid-input"
        )


def test_a_nul_character_in_a_body_is_bad_input_and_changes_nothing(client, db) -> None:
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post("/api/v1/appeals", json={"token": "st_\x00", "text": "I did nothing wrong"})
    assert response.status_code in (404, 422), response.text
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_a_nul_character_on_a_page_is_an_error_page(client, staff) -> None:
    token = staff.token(*Permission)
    response = client.get("/console/audit", params={"actor": "\x00"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 422) and response.headers["content-type"].startswith("text/html")
