"""The authority portal in a real Chromium: an officer files an emergency EU production
order; staff see it at the top of their queue on its 8-hour clock. Officers of another
agency cannot open it, and a wrong-type attachment is refused on the form."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from trustdesk.core.audit import Actor
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies

CLAIRE = next(o for o in demo_officers() if o.email.startswith("claire."))
JONAS = next(o for o in demo_officers() if o.email.startswith("jonas."))
KATRIN = next(o for o in demo_officers() if o.email.startswith("katrin."))
LEGAL = next(s for s in DEMO_STAFF if s.username == "legal")


@pytest.fixture(scope="module", autouse=True)
def _demo(live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=Actor("test", "browser"))
        ensure_demo_agencies(session, clock=c.clock, actor=Actor("test", "browser"))


def _officer_sign_in(page, live_server, officer) -> None:
    page.goto(live_server.url + "/portal/login")
    page.get_by_label("E-mail").fill(officer.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(officer.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#portal-requests")).to_be_visible()  # signed in: the next page may be asked for


def _fill_epoc(page) -> None:
    page.locator('textarea[name="element.issuing_authority"]').fill("Juge d'instruction, cabinet 12, TJ Paris")
    page.locator('textarea[name="element.case_reference"]').fill("JI-2026-0099")
    page.locator('textarea[name="element.offence"]').fill("Menaces de mort (art. 222-17 code pénal)")
    page.locator('textarea[name="element.grounds"]').fill(
        "Threats announce an attack tonight; the subscriber data identify the author."
    )
    page.locator('input[name="categories"][value="subscriber"]').check()
    page.locator('textarea[name="targets"]').fill("@lena_berlin")


def test_officer_files_an_emergency_production_order_and_staff_see_it_first_on_its_8_hour_clock(page, live_server) -> None:
    _officer_sign_in(page, live_server, CLAIRE)
    expect(page.get_by_role("heading", name=re.compile("Tribunal judiciaire de Paris"))).to_be_visible()
    page.get_by_role("link", name="European Production Order (EPOC, Annex I)").click()
    expect(page.get_by_text("Référence du dossier")).to_be_visible()  # the agency's language
    _fill_epoc(page)
    page.get_by_label(re.compile("Emergency")).check()
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request received.")
    heading = page.get_by_role("heading", level=1).inner_text()
    reference = re.search(r"LR-\d{4}-\d{6}", heading).group(0)
    expect(page.locator("body")).to_contain_text("we confirm this request by calling your agency")

    staff = open_page(page.context.browser)
    staff.goto(live_server.url + "/login")
    staff.get_by_label("Username").fill(LEGAL.username)
    staff.get_by_label("Password").fill(DEMO_PASSWORD)
    staff.get_by_label("One-time code").fill(pyotp.TOTP(LEGAL.totp_secret).now())
    staff.get_by_role("button", name="Sign in").click()
    expect(staff.get_by_role("heading", name=f"Welcome, {LEGAL.username}")).to_be_visible()
    staff.goto(live_server.url + "/console/requests")
    first = staff.locator("#request-queue tbody tr").first
    expect(first).to_have_attribute("data-reference", reference)
    expect(first.locator("td.clock")).to_have_text(re.compile(r"^7h 5\dm left$"))
    expect(first).to_contain_text("emergency")
    expect(first).to_contain_text("held for call-back")
    first.get_by_role("link", name=reference).click()
    expect(staff.locator("#callback")).to_contain_text("+33199000101")
    staff.context.close()


def test_an_officer_of_another_agency_cannot_open_it(page, live_server) -> None:
    _officer_sign_in(page, live_server, JONAS)
    expect(page.locator("#portal-requests")).to_contain_text("No requests yet.")
    response = page.goto(live_server.url + "/portal/requests/1")
    assert response is not None and response.status == 404


def test_a_wrong_type_attachment_is_refused_and_nothing_is_filed(page, live_server) -> None:
    _officer_sign_in(page, live_server, KATRIN)
    page.goto(live_server.url + "/portal/requests/new?instrument=eu_epoc")
    _fill_epoc(page)
    page.locator('input[name="attachments"]').set_input_files(
        files=[{"name": "order.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}]
    )
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("alert")).to_contain_text("not a PDF or an image")
    expect(page.locator('textarea[name="element.case_reference"]')).to_have_value("JI-2026-0099")
    page.goto(live_server.url + "/portal")
    expect(page.locator("#portal-requests")).to_contain_text("No requests yet.")
