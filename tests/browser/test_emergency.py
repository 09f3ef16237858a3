"""The emergency lane in a real Chromium. An officer files a TCO removal order through the
portal; being a first-time officer, the order is held for the call-back, and on-call sees it at
the top of the emergencies page on its one-hour clock, with the banner on every other console
page. The call-back confirms it, the lane removes the message at once, and on-call confirms the
removal. A threat-to-life draft is edited, confirmed and sent. A reviewer sees none of it."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from tests.waiting import patience
from trustdesk.core.audit import Actor
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.core.paging import InMemoryPager
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.models import ThreatCase, ThreatSource
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.platform.port import MessageState

JONAS = next(o for o in demo_officers() if o.email.startswith("jonas."))
ONCALL = next(s for s in DEMO_STAFF if s.username == "oncall")
LEGAL = next(s for s in DEMO_STAFF if s.username == "legal")
REVIEWER = next(s for s in DEMO_STAFF if s.username == "reviewer")
ACTOR = Actor("test", "browser")


@pytest.fixture(scope="module", autouse=True)
def _demo(live_server) -> None:
    c = live_server.container
    c.pager = InMemoryPager()  # on-call is paged; the page shows on the console
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=ACTOR)
        ensure_demo_agencies(session, clock=c.clock, actor=ACTOR)


def _staff_page(page, live_server, staff, *, zone: str = "UTC"):
    console = open_page(page.context.browser, timezone_id=zone)
    console.goto(live_server.url + "/login")
    console.get_by_label("Username").fill(staff.username)
    console.get_by_label("Password").fill(DEMO_PASSWORD)
    console.get_by_label("One-time code").fill(pyotp.TOTP(staff.totp_secret).now())
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name=f"Welcome, {staff.username}")).to_be_visible()
    return console


def _file_tco(page, live_server, message_id: str) -> str:
    page.goto(live_server.url + "/portal/login")
    page.get_by_label("E-mail").fill(JONAS.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(JONAS.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server.url + "/portal/requests/new?instrument=tco_removal")
    page.locator('textarea[name="element.issuing_authority"]').fill("LKA Baden-Württemberg, Abteilung Cybercrime, signiert")
    page.locator('textarea[name="element.reasons"]').fill(
        "The message glorifies an armed attack and calls for more (Art. 2(7)(a), (c))."
    )
    page.locator('textarea[name="element.redress"]').fill("Verwaltungsgericht Stuttgart, within one month.")
    page.locator('textarea[name="targets"]').fill(f"https://demo.messenger.invalid/m/{message_id}")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request received.")
    return re.search(r"LR-\d{4}-\d{6}", page.get_by_role("heading", level=1).inner_text()).group(0)


def test_a_tco_order_is_held_for_the_call_back_then_removed_at_once_and_confirmed(page, live_server) -> None:
    platform = live_server.container.platform
    message_id = seed_demo(platform).messages["propaganda_attack"]
    reference = _file_tco(page, live_server, message_id)

    console = _staff_page(page, live_server, ONCALL, zone="Europe/Berlin")
    console.goto(live_server.url + "/console/requests")  # any console page carries the banner
    banner = console.locator("#emergency-banner")
    expect(banner).to_contain_text(reference)
    expect(banner).to_contain_text("held for the call-back")
    banner.get_by_role("link", name="Open emergencies").click()

    first = console.locator("#removal-orders tbody tr").first
    expect(first).to_have_attribute("data-reference", reference)
    expect(first.locator("td.clock")).to_have_text(re.compile(r"^(1h 00m|5\dm) left$"))
    expect(first.locator("td").nth(1)).to_contain_text(re.compile(r"CES?T"))  # due, in the viewer's zone
    expect(first).to_contain_text("Blocked until the call-back is done")
    expect(first.get_by_role("button", name="Remove now")).to_be_disabled()
    assert platform.get_message(message_id).state is MessageState.VISIBLE

    pages = console.locator("#open-pages")
    expect(pages).to_contain_text(f"TCO order {reference} needs a person")
    pages.get_by_role("button", name=re.compile("Acknowledge")).first.click()
    expect(console.locator("#open-pages")).to_contain_text("No page is waiting for an answer.")

    console.locator("#removal-orders").get_by_role("link", name=reference).click()
    callback = console.locator("#callback")
    callback.get_by_label("Spoke to").fill("KHK Weber, duty desk")
    callback.get_by_label("Outcome").select_option("confirmed")
    callback.get_by_role("button", name="Record the call").click()

    console.goto(live_server.url + "/console/emergencies")
    # The call-back released the order and the lane removes it as soon as that commit is done,
    # a moment after the answer to the call-back; the page's ten-second poll shows it.
    first = console.locator("#removal-orders tbody tr").first
    expect(first).to_contain_text("removed automatically: confirm", timeout=patience(60) * 1000)
    assert platform.get_message(message_id).state is MessageState.REMOVED
    first.get_by_role("button", name="Confirm the removal").click()
    expect(console.locator("#removal-orders")).to_contain_text("No TCO order is waiting for anyone.")
    expect(console.locator("#closed")).to_contain_text(f"TCO order {reference}: removed and confirmed")
    console.goto(live_server.url + "/console")
    expect(console.locator("#emergency-banner")).to_be_empty()
    console.context.close()


def test_a_threat_to_life_draft_is_edited_confirmed_and_sent(page, live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        case = ttl.open_case(
            session,
            actor=ACTOR,
            clock=c.clock,
            source=ThreatSource.RULE,
            suspect="PL",
            summary="A user announces he will shoot his former teacher in Kraków tomorrow morning.",
        )
        case_id = case.id
    console = _staff_page(page, live_server, LEGAL)
    expect(console.locator("#emergency-banner")).to_contain_text("1 threat-to-life notification to confirm")
    console.goto(live_server.url + "/console/emergencies")
    draft = console.locator(f"#threat-{case_id}")
    expect(draft.locator(".recipients")).to_contain_text("(PL)")
    draft.get_by_label("Notification (edit before sending)").fill("Edited: threat to shoot a teacher in Kraków tomorrow, 08:00.")
    draft.get_by_label("Note for the record").fill("sent to the Polish police contact point")
    draft.get_by_role("button", name="Confirm and send").click()
    expect(console.locator("#threats")).to_contain_text("No threat-to-life notification is waiting.")
    expect(console.locator("#closed")).to_contain_text(f"Threat-to-life case {case_id}: sent")
    with c.db.transaction() as session:
        sent = session.get(ThreatCase, case_id)
        assert (sent.state, sent.draft) == ("sent", "Edited: threat to shoot a teacher in Kraków tomorrow, 08:00.")
    console.context.close()


def test_a_reviewer_sees_no_banner_and_is_not_let_in(page, live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ttl.open_case(
            session, actor=ACTOR, clock=c.clock, source=ThreatSource.REVIEW, summary="Threat to kill a neighbour", place="DE"
        )
    console = _staff_page(page, live_server, REVIEWER)
    expect(console.locator("#emergency-banner")).to_have_count(0)
    console.goto(live_server.url + "/console/emergencies")
    expect(console.get_by_role("heading", name="Not allowed")).to_be_visible()
    console.context.close()
