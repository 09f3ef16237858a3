"""The demo emergencies `make run` shows: a held TCO order on its clock with on-call paged, and
a threat-to-life draft; made once, however often the demo is loaded."""

from __future__ import annotations

from tests.conftest import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import InMemoryPager
from trustdesk.emergency import service
from trustdesk.emergency.demo import load_demo_emergency
from trustdesk.emergency.models import RemovalState
from trustdesk.legal.demo import ensure_demo_agencies
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.platform.port import MessageState


def test_the_demo_files_one_held_order_and_opens_one_threat_case_once(container, db, clock, platform, staff) -> None:
    cast = seed_demo(platform)
    staff.create(Role.ON_CALL, username="oncall1")
    container.pager = pager = InMemoryPager()
    with db.transaction() as session:
        ensure_demo_agencies(session, clock=clock, actor=TEST_ACTOR)
    assert load_demo_emergency(container, actor=TEST_ACTOR) == (1, 1)
    assert load_demo_emergency(container, actor=TEST_ACTOR) == (0, 0)
    with db.transaction() as session:
        view = service.overview(session, now=clock.now())
        [row] = view.removals
        assert row.removal.state == RemovalState.AWAITING_PERSON and row.held and row.time_left == "1h 00m left"
        assert [[r["key"] for r in case.recipients] for case in view.threats] == [["DE"]]
    assert [m.subject for m, _ in pager.sent] == [f"TCO order {row.reference} needs a person: one-hour clock running"]
    assert platform.get_message(cast.messages["propaganda_attack"]).state is MessageState.VISIBLE, "held: nothing removed yet"
