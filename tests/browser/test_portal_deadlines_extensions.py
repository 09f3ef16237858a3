"""Issue #16, items 10 and 12, in a real Chromium: an officer states the order's own deadline
on the portal form and sees the clock run to it, saying it is the stated one; on a
preservation order the officer asks for an extension, sees it granted, and can ask no more."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from trustdesk.core.audit import Actor
from trustdesk.core.identity.demo import DEMO_PASSWORD, ensure_demo_staff
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies

CLAIRE = next(o for o in demo_officers() if o.email.startswith("claire."))
KATRIN = next(o for o in demo_officers() if o.email.startswith("katrin."))  # a prosecutor: may order preservation


@pytest.fixture(scope="module", autouse=True)
def _demo(live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=Actor("test", "browser"))
        ensure_demo_agencies(session, clock=c.clock, actor=Actor("test", "browser"))


def _sign_in(page, live_server, officer=CLAIRE) -> None:  # one officer per test: a one-time code is used once
    page.goto(live_server.url + "/portal/login")
    page.get_by_label("E-mail").fill(officer.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(officer.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#portal-requests")).to_be_visible()


def _fill(page, **elements: str) -> None:
    for key, value in elements.items():
        page.locator(f'textarea[name="element.{key}"]').fill(value)
    page.locator('textarea[name="targets"]').fill("@lena_berlin")


def test_the_order_states_its_deadline_and_the_clock_says_it_is_the_stated_one(page, live_server) -> None:
    _sign_in(page, live_server)
    page.goto(live_server.url + "/portal/requests/new?instrument=eu_epoc")
    _fill(
        page,
        issuing_authority="Juge d'instruction, TJ Paris",
        case_reference="JI-2026-0300",
        offence="Extorsion (art. 312-1 code pénal)",
        grounds="The account sent the threats; subscriber data identify the author.",
    )
    page.locator('input[name="categories"][value="subscriber"]').check()
    stated = live_server.container.clock.now().date().isoformat()  # today, 00:00 UTC: earlier than 10 days
    page.locator('input[name="stated_due_at"]').fill(stated)
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request received.")
    expect(page.locator("#due-source")).to_contain_text("the date stated in the order")
    expect(page.locator("#due-source")).to_contain_text("statutory:")
    expect(page.locator("#due")).to_contain_text(stated)


def test_the_officer_asks_for_a_preservation_extension_and_sees_it_granted(page, live_server) -> None:
    _sign_in(page, live_server, KATRIN)
    page.goto(live_server.url + "/portal/requests/new?instrument=eu_epoc_pr")
    expect(page.locator('input[name="stated_due_at"]')).to_have_count(0)  # a preservation has no answer deadline
    _fill(
        page,
        issuing_authority="Staatsanwaltschaft Stuttgart",
        case_reference="StA-2026-0301",
        offence="Trafic de stupéfiants (art. 222-37 code pénal)",
    )
    page.locator('input[name="categories"][value="traffic"]').check()
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request received.")
    expect(page.locator("#extensions-used")).to_contain_text("0 of 1 used")
    page.locator('#preservation textarea[name="reason"]').fill("The production order is being drafted.")
    page.get_by_role("button", name="Ask for an extension").click()
    expect(page.locator("#extensions-used")).to_contain_text("1 of 1 used")
    expect(page.locator("#extension-asks")).to_contain_text("granted")
    expect(page.get_by_role("button", name="Ask for an extension")).to_have_count(0)
