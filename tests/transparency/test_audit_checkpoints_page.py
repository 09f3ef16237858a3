"""The audit chain's signed checkpoints on the public transparency page, and the JSON copy an
outsider keeps: a copy saved today still catches a chain rewritten tomorrow."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import TEST_ACTOR
from trustdesk.core import audit
from trustdesk.core.audit import checkpoints
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.database import Database
from trustdesk.http.container import Container


def _record(db: Database, clock, n: int) -> None:
    with db.transaction() as session:
        for i in range(n):
            audit.record(session, actor=TEST_ACTOR, action="thing.change", object_type="thing", object_id=i, clock=clock)


def test_the_page_says_when_nothing_is_signed_yet(client: TestClient) -> None:
    page = client.get("/transparency")
    assert (
        page.status_code == 200 and "Audit chain checkpoints" in page.text and "No checkpoint has been signed yet." in page.text
    )
    published = client.get("/transparency/audit-checkpoints.json").json()
    assert published["keys"] == [] and published["records"] == []


def test_signed_checkpoints_are_published_with_their_keys(
    client: TestClient, container: Container, db: Database, clock, tmp_path: Path
) -> None:
    anchor = checkpoints.Anchor.of(container.settings)
    _record(db, clock, 3)
    first, _ = checkpoints.take(db, anchor, clock=clock)
    old, new = checkpoints.rotate_key(anchor, clock=clock)
    _record(db, clock, 2)
    latest, _ = checkpoints.take(db, anchor, clock=clock)
    page = client.get("/transparency").text
    assert first.head in page and latest.head in page and old.public_key in page and new.public_key in page
    assert f"<code>{old.key_id}</code> (signed by it)" in page and "The latest 2 of 2 checkpoints" in page

    response = client.get("/transparency/audit-checkpoints.json")
    assert response.headers["content-type"] == "application/json"
    published = response.json()
    assert [k["key_id"] for k in published["keys"]] == [old.key_id, new.key_id]
    copy = tmp_path / "kept-by-an-outsider.json"
    copy.write_bytes(response.content)
    kept = checkpoints.read(copy)  # every signature and link checks out from the published copy alone
    assert [c.seq for c in kept.checkpoints] == [first.seq, first.seq + 2]

    with db.transaction() as session:  # later, someone edits an entry inside the database
        session.get(AuditEntry, 2).reason = "edited"
    with db.transaction() as session:
        result = audit.verify(session, checkpoints=kept.checkpoints)
    assert not result.ok and result.first_broken == 2
