"""Carrying TCO removal orders out on the demo platform (emergency/flows.py): automatic
removal and preservation for an order that may be trusted, a person for any other, a
person's removal, and an order that is not a TCO order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.emergency.conftest import file_tco
from tests.legal.conftest import staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict
from trustdesk.emergency import flows, preservation
from trustdesk.emergency.models import RemovalState
from trustdesk.legal import service as legal_service
from trustdesk.legal.intake import Channel
from trustdesk.legal.models import RequestMessage
from trustdesk.platform.port import MessageState


def _take_in(db, lane, request_id):
    with db.transaction() as session:
        return flows.take_in(session, lane=lane, request_id=request_id)


def _actions(db, object_type):
    with db.transaction() as session:
        return [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type))]


def test_an_order_from_a_verified_authority_is_removed_at_once_and_confirmed_to_it(
    db, clock, legal, world, lane, platform
) -> None:
    order = file_tco(legal, world)
    done = _take_in(db, lane, order.id)
    assert done.state == RemovalState.AUTO_REMOVED and done.automatic and done.removed_at == clock.now()
    assert platform.get_message(world.message_id).state is MessageState.REMOVED
    with db.transaction() as session:
        request = legal_service.get_request(session, principal=staff_principal(), request_id=order.id)
        told = session.scalars(select(RequestMessage).where(RequestMessage.request_id == order.id)).one()
        kept = preservation.contents_of(session, removal_id=done.id)
        assert request.state == "answered"
        assert clock.now().strftime("%Y-%m-%d %H:%M:%S UTC") in told.body and not told.from_authority
        assert [k.message_id for k in kept] == [world.message_id] and kept[0].platform_ok
        assert kept[0].snapshot["message"]["text"] == "threat", "the content is kept as it was before removal"
        assert kept[0].preserve_until == clock.now() + timedelta(days=183)
    assert {"removal.preserve", "removal.removed"} <= set(
        _actions(db, "emergency_removed_content") + _actions(db, "emergency_removal")
    )


@pytest.mark.parametrize(
    ("why", "kwargs"),
    [
        ("call-back", {"confirmed": False}),
        ("failed its checks", {"targets": [("message_id", "m999999")]}),
    ],
)
def test_an_order_that_may_not_be_trusted_alone_goes_to_a_person_and_pages(
    db, legal, world, lane, platform, pager, staff, why, kwargs
) -> None:
    from trustdesk.core.identity.permissions import Role

    staff.create(Role.ON_CALL, username="oncall1")
    waiting = _take_in(db, lane, file_tco(legal, world, **kwargs).id)
    assert waiting.state == RemovalState.AWAITING_PERSON and why in waiting.why_not_automatic
    assert platform.get_message(world.message_id).state is MessageState.VISIBLE, "nothing was removed"
    assert [r.username for _, r in pager.sent] == ["oncall1"] and "needs a person" in pager.sent[0][0].subject


def test_a_person_removes_an_order_the_lane_could_not(db, clock, legal, world, lane, platform) -> None:
    order = file_tco(legal, world, channel=Channel.STAFF)
    waiting = _take_in(db, lane, order.id)
    assert "filed by staff" in waiting.why_not_automatic
    with pytest.raises(Conflict, match="call-back"), db.transaction() as session:
        flows.remove_by_person(
            session, lane=lane, actor=TEST_ACTOR, principal=staff_principal(), removal_id=waiting.id, reason="x"
        )
    assert platform.get_message(world.message_id).state is MessageState.VISIBLE, "a held order changes nothing"
    with db.transaction() as session:
        legal_service.record_callback(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=order.id,
            spoke_to="Duty officer",
            outcome="confirmed",
        )
        done = flows.remove_by_person(
            session,
            lane=lane,
            actor=TEST_ACTOR,
            principal=staff_principal(),
            removal_id=waiting.id,
            reason="order received by post, signature checked",
        )
        assert done.state == RemovalState.REMOVED_BY_PERSON and not done.automatic
    assert platform.get_message(world.message_id).state is MessageState.REMOVED


def test_an_order_that_is_not_a_tco_order_is_refused_by_the_lane(db, legal, world, lane) -> None:
    from tests.legal.conftest import EPOC_ELEMENTS  # noqa: F401
    from trustdesk.legal.registry import officer_principal

    officer = legal.officer(legal.agency(), confirmed=True)
    epoc = legal.file(officer_principal(officer), legal.submission(world))
    from trustdesk.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not a TCO"), db.transaction() as session:
        flows.take_in(session, lane=lane, request_id=epoc.id)
