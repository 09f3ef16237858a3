"""Who looked, for lawful requests (core/access): reading a request logs a view of each person
it names, and the request justifies looking at their account's record; an auditor reads the
log per person."""

from __future__ import annotations

from sqlalchemy import select

from tests.legal.test_api import _agency_token, _body
from trustdesk.core.access.models import AccessEntry
from trustdesk.core.identity.permissions import Permission


def test_a_request_logs_its_targets_views_and_justifies_their_account_record(client, db, clock, legal, world, staff) -> None:
    agency = legal.agency()
    created = client.post("/api/v1/lawful-requests", json=_body(world), headers=_agency_token(db, clock, agency)).json()[
        "request"
    ]
    reader = {"Authorization": "Bearer " + staff.token(Permission.REQUESTS_READ, Permission.SAFETY_READ)}
    assert client.get(f"/api/v1/lawful-requests/{created['id']}", headers=reader).status_code == 200
    record = f"/api/v1/enforcement/accounts/{world.account_id}"
    assert client.get(record, headers=reader, params={"purpose": f"request:{created['id']}"}).status_code == 200
    other = legal.agency()
    unrelated = client.post(
        "/api/v1/lawful-requests",
        json=_body(world, targets=[{"value": "+49 151 0000 0002"}]),
        headers=_agency_token(db, clock, other),
    ).json()["request"]
    assert client.get(record, headers=reader, params={"purpose": f"request:{unrelated['id']}"}).status_code == 403
    with db.transaction() as s:
        rows = list(s.scalars(select(AccessEntry).where(AccessEntry.subject_id == world.account_id).order_by(AccessEntry.id)))
    assert [(r.what, r.purpose_kind, r.purpose_ref, r.channel) for r in rows] == [
        ("lawful_request", "request", str(created["id"]), "api"),
        ("account_record", "request", str(created["id"]), "api"),
    ]
    auditor = {"Authorization": "Bearer " + staff.token(Permission.AUDIT_READ)}
    log = client.get("/api/v1/access-log", headers=auditor, params={"subject": world.account_id}).json()
    assert [e["what"] for e in log] == ["account_record", "lawful_request"], "newest first"
