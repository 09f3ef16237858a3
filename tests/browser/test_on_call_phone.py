"""Issue #18, on-call on a phone (390 px): a page that went round the whole rota unanswered is
still on the emergencies page, marked so; the on-call person acknowledges it there, and the
page fits the screen. The same at 1280 px."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.core.paging import InMemoryPager, PageState, PageUrgency, escalate_due, page_on_call

ONCALL = next(s for s in DEMO_STAFF if s.username == "oncall")
ACTOR = Actor("test", "browser")


@pytest.fixture(scope="module", autouse=True)
def _demo(live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=ACTOR)


def _unanswered(live_server, subject: str) -> int:
    c, pager = live_server.container, InMemoryPager()
    with c.db.transaction() as session:
        page = page_on_call(
            session,
            pager=pager,
            actor=ACTOR,
            urgency=PageUrgency.EMERGENCY,
            subject=subject,
            body="Open the emergencies page",
            escalate_after=timedelta(minutes=1),
            max_rounds=1,
            clock=c.clock,
        )
        later = FrozenClock(c.clock.now())
        for _ in range(len(DEMO_STAFF) + 1):
            later.advance(minutes=2)
            escalate_due(session, pager=pager, actor=ACTOR, clock=later)
        assert page.state == PageState.UNANSWERED
        return page.id


def test_on_call_acknowledges_an_unanswered_page_on_a_phone(browser, live_server) -> None:
    console = open_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    console.goto(live_server.url + "/login")
    console.get_by_label("Username").fill(ONCALL.username)
    console.get_by_label("Password").fill(DEMO_PASSWORD)
    console.get_by_label("One-time code").fill(pyotp.TOTP(ONCALL.totp_secret).now())
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name=f"Welcome, {ONCALL.username}")).to_be_visible()
    for width, subject in [(390, "Threat to life: call back the caller"), (1280, "TCO order: the hour is near")]:
        console.set_viewport_size({"width": width, "height": 844})
        page_id = _unanswered(live_server, subject)
        console.goto(live_server.url + "/console/emergencies")
        row = console.locator(f"#page-{page_id}")
        expect(row).to_contain_text(subject)
        expect(row).to_contain_text("nobody answered after every round")
        assert console.evaluate("document.documentElement.scrollWidth") <= width
        row.get_by_role("button", name=f"Acknowledge page {page_id}").click()
        expect(console.locator(f"#page-{page_id}")).to_have_count(0)
    console.context.close()
