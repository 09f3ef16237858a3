"""The public transparency page (no sign-in) and the console page where staff draft, preview
and publish, over HTTP with the real login, CSRF and permissions."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Role
from trustdesk.transparency.reports.models import TransparencyReport


def _draft_id(db: Database) -> int:
    with db.transaction() as session:
        return session.scalars(select(TransparencyReport.id).order_by(TransparencyReport.id.desc())).first()


def _publish_government_2025(client: TestClient, staff, db: Database) -> None:  # type: ignore[no-untyped-def]
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    page = client.post("/console/transparency/drafts", data={"kind": "government", "period": "2025", "csrf_token": csrf})
    assert page.status_code == 200 and "is ready" in page.text
    draft = _draft_id(db)
    preview = client.get(f"/console/transparency/drafts/{draft}/")
    assert preview.status_code == 200 and "Government requests for user data" in preview.text
    published = client.post(f"/console/transparency/drafts/{draft}/publish", data={"csrf_token": csrf, "correction_note": ""})
    assert "Published government-2025 version 1." in published.text


def test_the_public_page_needs_no_sign_in_and_starts_empty(client: TestClient) -> None:
    page = client.get("/transparency")
    assert page.status_code == 200 and "No report has been published yet." in page.text
    assert client.get("/transparency/dsa-2025/1/").status_code == 404
    assert client.get("/transparency/dsa-2025", follow_redirects=False).status_code == 404


def test_staff_publish_and_the_public_reads_the_frozen_files(client: TestClient, staff, db: Database) -> None:  # type: ignore[no-untyped-def]
    _publish_government_2025(client, staff, db)
    client.cookies.clear()  # the public, signed out
    index = client.get("/transparency")
    assert "Government requests for user data, 2025" in index.text and "government-requests-2025.csv" in index.text
    assert (
        client.get("/transparency/government-2025", follow_redirects=False).headers["location"]
        == "/transparency/government-2025/1/"
    )
    assert client.get("/transparency/government-2025/1", follow_redirects=False).status_code == 308
    with db.transaction() as session:
        stored = {f.name: (f.content, f.sha256) for f in session.scalars(select(TransparencyReport)).first().files}
    page = client.get("/transparency/government-2025/1/")
    assert page.content == stored["government-requests-2025.html"][0]
    assert (
        page.headers["etag"] == f'"{stored["government-requests-2025.html"][1]}"' and "immutable" in page.headers["cache-control"]
    )
    csv_file = client.get("/transparency/government-2025/1/government-requests-2025.csv")
    assert csv_file.headers["content-disposition"] == 'attachment; filename="government-requests-2025.csv"'
    assert (
        hashlib.sha256(csv_file.content).hexdigest()
        == csv_file.headers["x-content-sha256"]
        == stored["government-requests-2025.csv"][1]
    )
    missing = client.get("/transparency/government-2025/1/secrets.txt")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/console/transparency", follow_redirects=False).status_code in (303, 401)


def test_a_second_version_needs_its_correction_note(client: TestClient, staff, db: Database) -> None:  # type: ignore[no-untyped-def]
    _publish_government_2025(client, staff, db)
    csrf = staff.sign_in(client, staff.create(Role.ADMIN))
    client.post("/console/transparency/drafts", data={"kind": "government", "period": "2025", "csrf_token": csrf})
    draft = _draft_id(db)
    refused = client.post(f"/console/transparency/drafts/{draft}/publish", data={"csrf_token": csrf, "correction_note": ""})
    assert refused.status_code == 422 and "say what this version corrects" in refused.text
    done = client.post(
        f"/console/transparency/drafts/{draft}/publish", data={"csrf_token": csrf, "correction_note": "A late answer was missed."}
    )
    assert "version 2" in done.text
    index = client.get("/transparency")
    assert "Correction: A late answer was missed." in index.text and "version 1</a>" in index.text


def test_bad_input_and_forbidden_callers(client: TestClient, staff, db: Database) -> None:  # type: ignore[no-untyped-def]
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    bad = client.post("/console/transparency/drafts", data={"kind": "dsa", "period": "last year", "csrf_token": csrf})
    assert bad.status_code == 422 and "not a reporting period" in bad.text
    assert client.post("/console/transparency/drafts", data={"kind": "dsa", "period": "2025"}).status_code == 403  # no CSRF token
    with db.transaction() as session:
        assert session.scalars(select(TransparencyReport)).all() == []
    client.cookies.clear()
    staff.sign_in(client, staff.create(Role.REVIEWER))
    assert client.get("/console/transparency").status_code == 403
