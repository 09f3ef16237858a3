"""A member of the public reports an account by its @handle in a real browser: an unknown
handle is refused at the field with the form kept; the right one files the notice, and the
receipt's reply form takes a reply that the page then shows."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.reports.models import Notice


def test_a_notice_by_username_and_a_reply_on_its_receipt(page, live_server) -> None:  # type: ignore[no-untyped-def]
    lena = seed_demo(live_server.container.platform).accounts["lena"]
    page.goto(live_server.url + "/report")
    page.get_by_label("What is wrong with it?").select_option("harassment")
    page.get_by_label("What are you reporting?").select_option("account")
    page.get_by_label("Where is it?").fill("@nobody_like_this")
    page.get_by_label("Why is it illegal").fill("She sends me threats every night.")
    page.get_by_label("Your name").fill("Tom Meier")
    page.get_by_label("Your e-mail").fill("tom@example.de")
    page.get_by_label("I believe in good faith").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#subject_id-error")).to_contain_text("found no account")
    expect(page.get_by_label("Where is it?")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Why is it illegal")).to_have_value("She sends me threats every night.")

    page.get_by_label("Where is it?").fill("@Lena_Berlin")
    page.get_by_label("I believe in good faith").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#outcome")).to_contain_text("We are reviewing it")
    token = page.url.rsplit("/", 1)[-1]
    with live_server.container.db.transaction() as session:
        notice = session.scalars(select(Notice).where(Notice.token == token)).one()
        assert (notice.subject_kind, notice.subject_id) == ("account", lena)

    page.get_by_label("Anything we should know?").fill("She wrote again tonight.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".reply")).to_contain_text("She wrote again tonight.")
