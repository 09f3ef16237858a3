from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from trustdesk.core.audit import Actor
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff

ADMIN = next(s for s in DEMO_STAFF if s.username == "admin")
REVIEWER = next(s for s in DEMO_STAFF if s.username == "reviewer")


def _demo_staff(live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=Actor("test", "browser"))


def _sign_in(page, live_server, staff, *, code: str | None = None) -> None:
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(code or pyotp.TOTP(staff.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()


def test_admin_signs_in_with_totp_and_sees_the_audit_log(page, live_server) -> None:
    _demo_staff(live_server)
    _sign_in(page, live_server, ADMIN)
    expect(page.get_by_role("heading", name="Welcome, admin")).to_be_visible()
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.locator("#audit-rows")).to_contain_text("login.ok")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")
    page.get_by_placeholder("action, e.g. login.fail").fill("user.create")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-rows")).not_to_contain_text("login.ok")
    expect(page.locator("#audit-rows")).to_contain_text("user.create")


def test_a_wrong_code_is_refused_with_a_clear_message(page, live_server) -> None:
    _demo_staff(live_server)
    _sign_in(page, live_server, REVIEWER, code="000000")
    expect(page.get_by_role("alert")).to_contain_text("one-time code is wrong")
    assert page.url.endswith("/login")


def test_a_reviewer_is_not_shown_the_audit_log(page, live_server) -> None:
    _demo_staff(live_server)
    _sign_in(page, live_server, REVIEWER)
    page.goto(live_server.url + "/console/audit")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
