"""Issue #18: every role sees only the areas it may open, "Safety" is a page, errors are pages."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from trustdesk.core.audit import Actor
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.core.identity.permissions import Role


def _sign_in(page, live_server, staff) -> None:
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(staff.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {staff.username}")).to_be_visible()


def test_every_nav_link_a_role_sees_opens(browser, live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=Actor("test", "browser"))
    # One sign-in per person (a one-time code is refused a second time in its 30 s window), and
    # between them the people hold every role.
    people = {}
    for role in Role:
        staff = next((s for s in DEMO_STAFF if role in set(s.roles)), None)
        assert staff is not None, f"no demo staff member has the role {role}"
        people.setdefault(staff.username, staff)
    for staff in people.values():
        role = sorted(set(staff.roles))
        page = open_page(browser)
        try:
            _sign_in(page, live_server, staff)
            nav = page.get_by_role("navigation", name="Areas").get_by_role("link")
            hrefs = [nav.nth(i).get_attribute("href") for i in range(nav.count())]
            tiles = page.locator("a.tile")
            assert sorted(hrefs) == sorted(tiles.nth(i).get_attribute("href") for i in range(tiles.count()))
            for href in hrefs:
                response = page.goto(live_server.url + href)
                assert response is not None and response.status == 200, (role, href, response and response.status)
            if Role.REVIEWER in role:
                _safety_is_a_page_and_errors_are_pages(page, live_server)
        finally:
            page.context.close()


def _safety_is_a_page_and_errors_are_pages(page, live_server) -> None:
    page.goto(live_server.url + "/console")
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Safety").click()
    expect(page.get_by_role("heading", name="Safety", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Hash banks")).to_be_visible()

    response = page.goto(live_server.url + "/console/no-such-page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Console home")).to_be_visible()

    response = page.goto(live_server.url + "/transparency/no/such/page/here")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator('a[href="/login"]').count() == 0  # public pages never link to the staff sign-in
