"""The privacy API and console page (issue #21): a rights request over HTTP, its export as data
and as Markdown, a retention run committed before the answer, the record of processing;
each refused to a caller without the permission."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.privacy.conftest import PrivacyFactory
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.legal.disclosure.models import NoticeState


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_access_request_over_the_api_and_its_export(client, staff, world: PrivacyFactory) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(staff.token(Permission.PRIVACY_MANAGE))
    person = world.person()
    gagged = world.lawful_request(person.account_id, notice=NoticeState.WITHHELD)
    created = client.post(
        "/api/v1/privacy/requests", json={"kind": "access", "account_id": person.account_id, "note": "by e-mail"}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "partly_deferred" and body["reasons"][0]["obstacle"] == "non_disclosure_order"
    exported = client.get(f"/api/v1/privacy/requests/{body['id']}/export", headers=headers)
    assert exported.status_code == 200 and gagged not in exported.text
    assert exported.json()["sections"]["strikes"][0]["policy"] == "harassment"
    markdown = client.get(f"/api/v1/privacy/requests/{body['id']}/export.md", headers=headers)
    assert markdown.headers["content-type"].startswith("text/markdown") and "## Strikes on your account" in markdown.text
    assert gagged not in markdown.text
    assert client.get(f"/api/v1/privacy/requests/{body['id']}", headers=headers).json()["id"] == body["id"]
    assert client.get("/api/v1/privacy/requests/99999", headers=headers).status_code == 404


def test_bad_input_and_a_caller_without_the_permission_change_nothing(client, staff, db: Database) -> None:  # type: ignore[no-untyped-def]
    manager = _auth(staff.token(Permission.PRIVACY_MANAGE))
    reader = _auth(staff.token(Permission.PRIVACY_READ))
    assert client.post("/api/v1/privacy/requests", json={"kind": "forget", "account_id": "a"}, headers=manager).status_code == 422
    assert client.post("/api/v1/privacy/requests", json={"kind": "access", "account_id": "a"}, headers=reader).status_code == 403
    assert client.post("/api/v1/privacy/retention/run", json={}, headers=reader).status_code == 403
    assert client.get("/api/v1/privacy/record").status_code == 401
    with db.transaction() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.object_type == "privacy_request")) is None


def test_a_retention_run_over_the_api_is_committed_and_audited(
    client, staff, world: PrivacyFactory, clock: FrozenClock, db: Database
) -> None:  # type: ignore[no-untyped-def]
    world.person(at=clock.now() - timedelta(days=1000))
    headers = _auth(staff.token(Permission.PRIVACY_MANAGE))
    dry = client.post("/api/v1/privacy/retention/run", json={"dry_run": True}, headers=headers).json()
    done = client.post("/api/v1/privacy/retention/run", json={}, headers=headers).json()
    assert dry["dry_run"] and dry["tables"]["notices"]["emptied"] == 1
    assert done["tables"]["notices"]["emptied"] == 1 and done["emptied"] == dry["emptied"]
    with db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.retention.run"))
        assert entry is not None and entry.actor.startswith("token:")


def test_the_record_of_processing_as_data_as_a_document_and_on_the_console(client, staff, settings) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(staff.token(Permission.PRIVACY_READ))
    document = client.get("/api/v1/privacy/record", headers=headers).json()
    assert document["controller"]["name"] == settings.organisation_name
    names = [a["name"] for a in document["activities"]]
    assert "Answering lawful requests from authorities" in names and len(names) == 7
    notices = next(a for a in document["activities"] if a["key"] == "notice_and_action")
    assert any(s["where"] == "table notices" and "two years" in s["retention"] for s in notices["storage"])
    markdown = client.get("/api/v1/privacy/record.md", headers=headers).text
    assert markdown.startswith("# Record of processing activities (GDPR Art. 30(1))") and "## Security measures" in markdown
    auditor = staff.create(Role.AUDITOR)
    staff.sign_in(client, auditor)
    page = client.get("/console/privacy")
    assert page.status_code == 200 and "Record of processing activities" in page.text
    assert "Rights requests" not in page.text  # an auditor reads the record, not the requests
    assert 'href="/console/privacy"' in client.get("/console").text


def test_a_legal_officer_takes_a_request_in_on_the_console(client, staff, world: PrivacyFactory) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    world.hold(person.account_id)
    officer = staff.create(Role.LEGAL_OFFICER)
    csrf = staff.sign_in(client, officer)
    sent = client.post(
        "/console/privacy/requests",
        data={"csrf_token": csrf, "kind": "erasure", "account_id": person.account_id, "note": "passport seen"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    page = client.get("/console/privacy").text
    assert 'data-state="deferred"' in page and "legal_hold" in page and "Try again" in page
    bad = client.post("/console/privacy/requests", data={"csrf_token": csrf, "kind": "access", "account_id": " "})
    assert bad.status_code == 422 and "account id" in bad.text
    wrong = client.post("/console/privacy/requests", data={"csrf_token": csrf, "kind": "forget", "account_id": "acct-x"})
    assert wrong.status_code == 422 and "one of access" in wrong.text
