"""The one-hour lane never crashes (issue #16, item 13): content dated after Trustdesk's clock
(clock skew) is removed with the skew recorded; any failure of the lane is recorded, pages
on-call once, is shown on the emergencies page and API, and is retried by the sweep; an
incomplete order's hour waits for the missing element and the order says what it waits for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.emergency.conftest import file_tco
from tests.legal.conftest import staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.emergency import flows, removal, service
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency.models import RemovalState
from trustdesk.legal import service as legal_service
from trustdesk.legal.intake import Channel
from trustdesk.platform.port import MessageState


def _future_message(platform, world, clock, *, ahead: timedelta) -> str:
    """A message the platform dates `ahead` of Trustdesk's clock (the platform's clock runs fast)."""
    chat_id = platform.get_message(world.message_id).chat_id
    post = platform.posting
    return post.post_message(chat_id=chat_id, sender_id=world.account_id, text="skewed", sent_at=clock.now() + ahead).id


def _audit(db, action):
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_content_dated_after_our_clock_is_removed_and_the_skew_recorded(db, clock, legal, world, lane, platform) -> None:
    # The frozen clock is 23:30 UTC: two hours ahead is tomorrow's date, which the statement of reasons refused.
    message_id = _future_message(platform, world, clock, ahead=timedelta(hours=2))
    order = file_tco(legal, world, targets=[("message_id", message_id)])
    assert lane_runner.tick(db, lane=lane) == 1
    assert platform.get_message(message_id).state is MessageState.REMOVED
    with db.transaction() as session:
        done = removal.removal_for(session, request_id=order.id)
        assert done is not None and done.state == RemovalState.AUTO_REMOVED
    skew = _audit(db, "enforcement.clock_skew")
    assert len(skew) == 1 and skew[0].details["clamped_to"] == clock.now().date().isoformat()
    assert skew[0].details["content_date"] == (clock.now() + timedelta(hours=2)).date().isoformat()
    assert _audit(db, removal.LANE_FAILED) == []


def test_one_failing_order_never_stops_the_others_and_is_paged_shown_and_retried(
    db, clock, legal, world, lane, pager, staff, monkeypatch
) -> None:
    staff.create(Role.ON_CALL, username="oncall1")
    broken, fine = file_tco(legal, world), file_tco(legal, world)
    real = flows.take_in

    def take_in(session, *, lane, request_id):
        if request_id == broken.id:
            real(session, lane=lane, request_id=request_id)  # writes, which the savepoint must undo
            raise RuntimeError("adapter exploded")
        return real(session, lane=lane, request_id=request_id)

    monkeypatch.setattr(flows, "take_in", take_in)
    pager.sent.clear()
    assert lane_runner.tick(db, lane=lane) == 1
    lane_runner.tick(db, lane=lane)  # the retry fails again: recorded, not paged twice
    with db.transaction() as session:
        assert removal.removal_for(session, request_id=broken.id) is None, "the failed attempt left nothing half-done"
        assert removal.removal_for(session, request_id=fine.id).state == RemovalState.AUTO_REMOVED
        view = service.overview(session, now=clock.now())
        assert [(f.reference, f.attempts) for f in view.failures] == [(broken.reference, 2)]
        assert "adapter exploded" in view.failures[0].error
    failed_pages = [m.subject for m, _ in pager.sent if "lane failed" in m.subject]
    assert len(failed_pages) == 1 and broken.reference in failed_pages[0]
    assert len(_audit(db, removal.LANE_FAILED)) == 2

    monkeypatch.setattr(flows, "take_in", real)
    lane_runner.tick(db, lane=lane)
    with db.transaction() as session:
        assert removal.removal_for(session, request_id=broken.id).state == RemovalState.AUTO_REMOVED
        assert service.overview(session, now=clock.now()).failures == []
    assert len(_audit(db, removal.LANE_RECOVERED)) == 1


def test_a_failure_right_after_commit_is_recorded_for_the_sweep_not_swallowed(db, clock, legal, world, lane, monkeypatch) -> None:
    def boom(session, *, lane, request_id):
        raise RuntimeError("platform down")

    monkeypatch.setattr(flows, "take_in", boom)
    lane_runner.install(db, lambda: lane)
    order = file_tco(legal, world)
    with db.transaction() as session:
        assert list(removal.lane_failures(session)) == [order.id]


def test_lane_failures_show_on_the_api_and_the_emergencies_page(db, clock, legal, world, lane, client, staff) -> None:
    order = file_tco(legal, world)
    with db.transaction() as session:
        removal.lane_failed(session, lane=lane, request_id=order.id, error="RuntimeError: adapter exploded")
    token = staff.token(Permission.EMERGENCY_HANDLE)
    body = client.get("/api/v1/emergency", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(f["reference"], f["attempts"]) for f in body["lane_failures"]] == [(order.reference, 1)]
    staff.sign_in(client, staff.create(Role.ON_CALL, Role.LEGAL_OFFICER, username="omar"))
    page = client.get("/console/emergencies").text
    assert "lane-failure-" in page and "adapter exploded" in page


def test_an_incomplete_order_waits_for_its_element_then_gets_a_full_hour(db, clock, legal, world, lane) -> None:
    elements = {"issuing_authority": "OFAC", "reasons": "glorification of an attack"}  # no redress
    order = file_tco(legal, world, channel=Channel.STAFF, elements=elements)
    lane_runner.tick(db, lane=lane)
    with db.transaction() as session:
        waiting = removal.removal_for(session, request_id=order.id)
        assert waiting is not None and waiting.due_at is None, "no hour runs before the order is complete"
        row = service.overview(session, now=clock.now()).removals[0]
        assert row.waiting_for == ("redress",) and row.time_left.startswith("waiting for redress")
    clock.advance(hours=3)  # hours later: nothing is missed, nothing is paged as late
    with db.transaction() as session:
        assert removal.scan_deadlines(session, lane=lane) == []
        legal_service.supply_elements(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=order.id,
            elements={"redress": "Administrative court"},
        )
    lane_runner.tick(db, lane=lane)
    with db.transaction() as session:
        again = removal.removal_for(session, request_id=order.id)
        assert again.due_at == clock.now() + timedelta(hours=1), "the hour runs from the moment the element arrived"
        assert service.overview(session, now=clock.now()).removals[0].waiting_for == ()


def test_the_waiting_list_names_every_missing_element(db, legal, world) -> None:
    order = file_tco(legal, world, channel=Channel.STAFF, elements={"issuing_authority": "OFAC"})
    with db.transaction() as session:
        request = legal_service.get_request(session, principal=staff_principal(), request_id=order.id)
        assert removal.waiting_for(request) == ["reasons", "redress"]
        request.elements_completed_at = request.received_at
        assert removal.waiting_for(request) == []


def test_an_incomplete_tco_order_from_the_portal_waits_rather_than_being_refused(db, legal, world, lane) -> None:
    order = file_tco(legal, world, elements={"issuing_authority": "OFAC", "reasons": "glorification"})  # portal, no redress
    assert order.state == "received" and order.due_at is None
    lane_runner.tick(db, lane=lane)
    with db.transaction() as session:
        waiting = removal.removal_for(session, request_id=order.id)
        assert waiting is not None and waiting.state == RemovalState.AWAITING_PERSON and waiting.due_at is None
