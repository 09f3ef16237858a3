"""The transparency pages in a real browser: a legal officer drafts, previews and publishes the
government-request report of 2025 in the console; the public, signed out, finds it on
/transparency, reads it and downloads its CSV, whose SHA-256 is the one the page shows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from tests.transparency.conftest import Seeder
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.legal.instruments import IssuerKind, RefusalReason
from trustdesk.legal.models import RequestState

LEGAL = next(s for s in DEMO_STAFF if s.username == "legal")


def _seed_2025(live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = live_server.container
    clock = FrozenClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=Actor("test", "browser"))
        seed = Seeder(session=session, clock=clock, platform=c.platform, data_dir=tmp_path)
        fr, br = seed.agency("FR", IssuerKind.INVESTIGATING_JUDGE), seed.agency("BR", IssuerKind.COURT)
        first = seed.request(fr, "eu_epoc", at=clock.now(), targets=[("account_id", seed.account("FR"))])
        seed.answer(first, at=clock.now() + timedelta(hours=30))
        second = seed.request(
            br,
            "mlat_cloud",
            at=clock.now() + timedelta(days=2),
            targets=[("username", "nobody_here")],
            categories=("subscriber",),
        )
        seed.move(second, RequestState.REFUSED, at=clock.now() + timedelta(hours=5), refusal=RefusalReason.NOT_HELD)


def _sign_in(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(LEGAL.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(LEGAL.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()


def test_publish_in_the_console_and_read_it_on_the_public_page(page, browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _seed_2025(live_server, tmp_path)
    _sign_in(page, live_server)
    page.get_by_role("link", name="Transparency").first.click()
    expect(page.get_by_role("heading", name="Transparency reports")).to_be_visible()
    page.get_by_label("Report").select_option("government")
    page.get_by_label("Period").fill("2025")
    page.get_by_role("button", name="Make draft").click()
    expect(page.get_by_role("status")).to_contain_text("government-2025 is ready")
    with page.context.expect_page() as preview_info:
        page.locator("#drafts").get_by_role("link", name="government-2025").click()
    preview = preview_info.value
    expect(preview.get_by_role("heading", name="Government requests for user data")).to_be_visible()
    expect(preview.locator("#world-table")).to_contain_text("France")
    preview.close()
    page.locator("#drafts").get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published government-2025 version 1.")

    public = open_page(browser)  # the public: no cookies, never signed in
    public.goto(live_server.url + "/transparency")
    entry = public.locator("#government-2025")
    expect(entry.get_by_role("heading", name="Government requests for user data, 2025")).to_be_visible()
    with public.expect_download() as download_info:
        entry.get_by_role("link", name="government-requests-2025.csv").click()
    data = open(download_info.value.path(), "rb").read()
    expect(entry).to_contain_text(hashlib.sha256(data).hexdigest())
    assert data.decode().splitlines()[0].startswith("period,country,country_name,requests,")
    entry.get_by_role("link", name="Read the report").click()
    expect(public.get_by_role("heading", name="Government requests for user data")).to_be_visible()
    world = public.locator("#world-table")
    expect(world.get_by_role("row", name="France")).to_contain_text("30.00")  # answered after 30 hours
    expect(world.get_by_role("row", name="Brazil")).to_contain_text("5.00")  # refused after 5 hours
    expect(world.locator("tr.total")).to_contain_text("All countries")
    expect(public.locator("svg.chart").first).to_be_visible()
    public.context.close()
