"""Preservation orders and legal holds: a frozen snapshot outlives deletion on the platform,
expires on the instrument's clock, extends within its limit, and converts into production."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import delete, select

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import Cast, Scenarios
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict
from trustdesk.legal.disclosure import packages, preservation
from trustdesk.legal.disclosure.models import LegalHold
from trustdesk.platform.demo.models import DemoMessage


def _freeze(db, clock, platform, request_id: int) -> list[LegalHold]:
    with db.transaction() as session:
        return preservation.freeze(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, platform=platform, request_id=request_id
        )


def _user_deletes_everything(platform, account_id: str) -> None:
    with platform.store.transaction() as session:
        session.execute(delete(DemoMessage).where(DemoMessage.sender_id == account_id))


def _preserved(db, clock, platform, desk: Desk, scenarios: Scenarios) -> LegalHold:
    order = scenarios.french_preservation_order()
    decision = desk.decide(order.request.id)
    assert decision.outcome == "preserve_only" and decision.categories == ["content", "traffic"]
    desk.adopt(decision)
    (hold,) = _freeze(db, clock, platform, order.request.id)
    return hold


def test_a_frozen_snapshot_outlives_deletion_and_is_produced_on_conversion(
    db, clock, platform, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    hold = _preserved(db, clock, platform, desk, scenarios)
    assert [r["text"] for r in hold.snapshot["content"]["records"]] == [f"delivery {d} at the usual place" for d in range(3)]
    _user_deletes_everything(platform, cast.suspect)
    assert platform.retrieve(cast.suspect, "content").records == []
    production = scenarios.french_judge_content_order()
    with db.transaction() as session:
        preservation.convert(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, hold_id=hold.id, production_request_id=production.request.id
        )
    clock.advance(days=11)
    _, secret = desk.package(desk.through_approval(production.request.id))
    data = desk.download(production.principal, secret).data
    assert packages.verify(data, public_key_b64=desk.key.public_key_b64).ok
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = json.loads(archive.read(f"data/{cast.suspect}/content.json"))
    assert [r["text"] for r in content["records"]] == [f"delivery {d} at the usual place" for d in range(3)]
    with db.transaction() as session:
        assert session.get(LegalHold, hold.id).state == "converted"


def test_holds_are_released_on_expiry_with_an_audit_entry(db, clock, platform, desk: Desk, scenarios: Scenarios) -> None:
    hold = _preserved(db, clock, platform, desk, scenarios)
    clock.advance(days=59)
    with db.transaction() as session:
        assert preservation.release_expired(session, actor=TEST_ACTOR, clock=clock) == []
    clock.advance(days=2)
    with db.transaction() as session:
        released = preservation.release_expired(session, actor=TEST_ACTOR, clock=clock)
        assert [h.id for h in released] == [hold.id] and released[0].state == "released"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "hold.release")).one()
        assert entry.object_id == str(hold.id) and "expired" in entry.reason


def test_a_hold_extends_once_by_thirty_days_and_no_more(db, clock, platform, desk: Desk, scenarios: Scenarios) -> None:
    hold = _preserved(db, clock, platform, desk, scenarios)
    first_expiry = hold.expires_at
    with db.transaction() as session:
        extended = preservation.extend(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, hold_id=hold.id, reason="issuer asked"
        )
        assert (extended.expires_at - first_expiry).days == 30
    with db.transaction() as session, pytest.raises(Conflict, match="at most 1 extension"):
        preservation.extend(session, actor=TEST_ACTOR, clock=clock, principal=LENA, hold_id=hold.id, reason="again")


def test_only_a_preserve_only_decision_freezes(db, clock, platform, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    desk.decide(filed.request.id)
    with pytest.raises(Conflict, match="not 'preserve only'"):
        _freeze(db, clock, platform, filed.request.id)
