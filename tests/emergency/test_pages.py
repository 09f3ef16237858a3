"""The emergencies page and the banner over the real app (TestClient): what on-call reads on
the one-hour clock, the actions and their refusals, and who may see or do anything."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.emergency.conftest import file_tco
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import InMemoryPager, Page, PageState
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency import removal
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.models import RemovalState, ThreatCase, ThreatSource
from trustdesk.legal.intake import Channel
from trustdesk.platform.port import MessageState

PAGE = "/console/emergencies"


@pytest.fixture
def oncall(client, staff) -> str:
    """On-call who is also a legal officer (as the demo's `oncall`): signed in, returns the CSRF token."""
    return staff.sign_in(client, staff.create(Role.ON_CALL, Role.LEGAL_OFFICER, username="omar"))


def _row(html: str, reference: str) -> str:
    match = re.search(rf'<tr id="removal-\d+" data-reference="{reference}".*?</tr>', html, re.S)
    assert match, f"{reference} is not on the page"
    return match.group(0)


def _removal(db, request_id: int):
    with db.transaction() as session:
        return removal.removal_for(session, request_id=request_id)


def _actions(db, object_type: str) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == object_type)))


def test_an_automatic_removal_waits_at_the_top_for_a_person_who_confirms_it(client, oncall, legal, world, db, platform) -> None:
    order = file_tco(legal, world)  # committed: the lane removes it at once
    row = _row(client.get(PAGE).text, order.reference)
    assert "removed automatically: confirm" in row and "the authority was told" in row
    assert platform.get_message(world.message_id).state is MessageState.REMOVED
    done = client.post(
        f"{PAGE}/removals/{_removal(db, order.id).id}/confirm",
        data={"csrf_token": oncall, "note": "clear call"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(PAGE)
    page = client.get(PAGE).text
    assert "No TCO order is waiting for anyone." in page and "removed and confirmed" in page
    assert _removal(db, order.id).confirmed_by.endswith("omar") and "removal.confirm" in _actions(db, "emergency_removal")


def test_a_held_order_counts_down_and_cannot_be_removed_before_the_call_back(
    client, oncall, legal, world, db, clock, platform
) -> None:
    order = file_tco(legal, world, confirmed=False)  # a first-time officer: held for the call-back
    row = _row(client.get(PAGE).text, order.reference)
    assert "1h 00m left" in row and "Blocked until the call-back is done" in row and "disabled" in row
    clock.advance(minutes=20)
    assert "40m left" in _row(client.get(f"{PAGE}/live").text, order.reference)
    refused = client.post(f"{PAGE}/removals/{_removal(db, order.id).id}/remove", data={"csrf_token": oncall, "reason": "urgent"})
    assert refused.status_code == 409 and "call-back" in refused.text and 'role="alert"' in refused.text
    assert _removal(db, order.id).state == RemovalState.AWAITING_PERSON
    assert platform.get_message(world.message_id).state is MessageState.VISIBLE, "a refused action changes nothing"
    clock.advance(minutes=41)
    row = _row(client.get(f"{PAGE}/live").text, order.reference)
    assert 'class="overdue"' in row and "1m overdue" in row


def test_after_the_call_back_a_person_removes_an_order_entered_by_staff(client, oncall, legal, world, db, platform) -> None:
    order = file_tco(legal, world, channel=Channel.STAFF)
    called = client.post(
        f"/console/requests/{order.id}/callback",
        data={"csrf_token": oncall, "spoke_to": "Duty officer", "outcome": "confirmed"},
        follow_redirects=False,
    )
    assert called.status_code == 303
    row = _row(client.get(PAGE).text, order.reference)
    assert "filed by staff" in row and "Blocked" not in row
    removal_id = _removal(db, order.id).id
    empty = client.post(f"{PAGE}/removals/{removal_id}/remove", data={"csrf_token": oncall, "reason": "  "})
    assert empty.status_code == 422 and "Say why you remove it" in empty.text
    done = client.post(
        f"{PAGE}/removals/{removal_id}/remove",
        data={"csrf_token": oncall, "reason": "order by post, signature checked"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and _removal(db, order.id).state == RemovalState.REMOVED_BY_PERSON
    assert platform.get_message(world.message_id).state is MessageState.REMOVED


def test_a_threat_to_life_case_is_opened_edited_and_sent(client, oncall, db) -> None:
    bad = client.post(
        f"{PAGE}/threats", data={"csrf_token": oncall, "summary": "Threat to stab a teacher tomorrow", "place": "France"}
    )
    assert bad.status_code == 422 and "two-letter" in bad.text and "Threat to stab a teacher tomorrow</textarea>" in bad.text
    with db.transaction() as session:
        assert session.scalars(select(ThreatCase)).all() == [], "a refused case is not opened"
    opened = client.post(
        f"{PAGE}/threats",
        data={"csrf_token": oncall, "summary": "Threat to stab a teacher tomorrow", "place": "FR"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = client.get(PAGE).text
    assert "Threat to stab a teacher tomorrow" in page and "(FR)" in page and "contact point not yet confirmed" in page
    with db.transaction() as session:
        case_id = session.scalars(select(ThreatCase.id)).one()
    assert client.post(f"{PAGE}/threats/{case_id}/dismiss", data={"csrf_token": oncall, "note": ""}).status_code == 422
    sent = client.post(
        f"{PAGE}/threats/{case_id}/send",
        data={"csrf_token": oncall, "draft": "Edited notification text", "note": "by phone"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with db.transaction() as session:
        case = session.get(ThreatCase, case_id)
        assert (case.state, case.draft, case.decided_by.endswith("omar")) == ("sent", "Edited notification text", True)
    assert "No threat-to-life notification is waiting." in client.get(PAGE).text


def test_pages_are_acknowledged_and_escalations_are_shown(client, oncall, container, legal, world, db, clock, staff) -> None:
    container.pager = pager = InMemoryPager()
    staff.create(Role.ON_CALL, username="second")
    file_tco(legal, world, confirmed=False)
    clock.advance(minutes=6)
    lane_runner.tick(db, lane=lane_runner.lane_of(container))  # nobody answered: the next person is paged
    assert [r.username for _, r in pager.sent] == ["omar", "second"]
    page = client.get(PAGE).text
    with db.transaction() as session:
        page_id = session.scalars(select(Page.id)).one()
    assert f'id="page-{page_id}"' in page and "last paged second" in page and "step 2" in page
    link = client.get(f"/console/emergency/pages/{page_id}", follow_redirects=False)  # the link in the page itself
    assert link.headers["location"] == f"{PAGE}#page-{page_id}"
    done = client.post(f"{PAGE}/pages/{page_id}/acknowledge", data={"csrf_token": oncall}, follow_redirects=False)
    assert done.status_code == 303
    with db.transaction() as session:
        assert session.get(Page, page_id).state == PageState.ACKNOWLEDGED
    assert "No page is waiting for an answer." in client.get(PAGE).text and "acknowledged by omar" in client.get(PAGE).text
    again = client.post(f"{PAGE}/pages/{page_id}/acknowledge", data={"csrf_token": oncall})
    assert again.status_code == 409 and "already acknowledged" in again.text


def test_the_banner_names_the_most_urgent_order_on_every_page_for_on_call(client, oncall, legal, world, db, clock) -> None:
    assert client.get(f"{PAGE}/banner").text.strip() == "", "nothing open: no banner"
    assert 'hx-get="/console/emergencies/banner"' in client.get("/console").text
    order = file_tco(legal, world, confirmed=False)
    with db.transaction() as session:
        ttl.open_case(session, actor=TEST_ACTOR, clock=clock, source=ThreatSource.RULE, summary="kill threat", place="DE")
    banner = client.get(f"{PAGE}/banner").text
    assert order.reference in banner and "1h 00m left" in banner and "held for the call-back" in banner
    assert "1 threat-to-life notification to confirm" in banner


def test_a_reviewer_gets_neither_the_banner_nor_any_action(client, staff, legal, world, db, clock) -> None:
    order = file_tco(legal, world)
    csrf = staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    assert "emergency-banner" not in client.get("/console").text
    assert client.get(f"{PAGE}/banner").status_code == 403
    assert client.get(PAGE).status_code == 403
    removal_id = _removal(db, order.id).id
    assert client.post(f"{PAGE}/removals/{removal_id}/confirm", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"{PAGE}/threats", data={"csrf_token": csrf, "summary": "x", "place": "FR"}).status_code == 403
    assert _removal(db, order.id).state == RemovalState.AUTO_REMOVED, "nothing changed"
