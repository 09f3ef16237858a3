"""Review in a real browser: a user reports a message; a reviewer claims the case, sees the
media blurred until revealing it, removes the message; the user's statement of reasons
appears; the user appeals; a second reviewer upholds the appeal and the message is back."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page
from trustdesk.core.audit import Actor
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.platform.port import MessageState
from trustdesk.safety.review import service as review

PASSWORD = "a browser test password"
ACTOR = Actor("test", "browser")


@pytest.fixture(scope="module")
def people(live_server):  # type: ignore[no-untyped-def]
    """Two reviewers of our own (fresh TOTP secrets), in the queues the scenario needs."""
    c = live_server.container
    secrets = {"rita_b": pyotp.random_base32(), "ravi_b": pyotp.random_base32()}
    with c.db.transaction() as session:
        review.ensure_queues(session, actor=ACTOR, clock=c.clock)
        for name, secret in secrets.items():
            identity.create_user(
                session,
                actor=ACTOR,
                clock=c.clock,
                username=name,
                display_name=name,
                email=f"{name}@example.org",
                password=PASSWORD,
                roles=[Role.REVIEWER],
                totp_secret=secret,
            )
        review.add_member(session, actor=ACTOR, clock=c.clock, queue="illegal_goods", username="rita_b")
        review.add_member(session, actor=ACTOR, clock=c.clock, queue="appeals", username="ravi_b")
    return secrets


def sign_in(page, live_server, username: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def report(page, live_server, message_id: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/report")
    page.get_by_label("What is wrong with it?").select_option("drugs_weapons")
    page.get_by_label("Where is it?").fill(message_id)
    page.get_by_label("Why is it illegal").fill("A price list for drugs in our neighbourhood group.")
    page.get_by_label("Your name").fill("Tom Meier")
    page.get_by_label("Your e-mail").fill("tom@example.de")
    page.get_by_label("I believe in good faith").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#outcome")).to_contain_text("We are reviewing it")
    return page.url


def test_report_review_remove_statement_appeal_restore(page, browser, live_server, people) -> None:
    platform = live_server.container.platform
    message_id = seed_demo(platform).messages["drug_price_list"]
    receipt_url = report(page, live_server, message_id)

    sign_in(page, live_server, "rita_b", people["rita_b"])
    page.goto(live_server.url + "/console/review")
    page.get_by_role("link", name="Drugs, weapons and prohibited goods").first.click()
    page.locator("#cases").get_by_role("link", name="Case").first.click()
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_text("You hold this case")).to_be_visible()

    figure = page.locator("figure.media").first
    expect(figure).to_have_class("media blur grey")
    assert "blur" in figure.locator("img").evaluate("img => getComputedStyle(img).filter")
    figure.get_by_role("button", name="Show media").click()
    expect(figure).to_have_class("media blur grey revealed")
    assert figure.locator("img").evaluate("img => getComputedStyle(img).filter") == "none"

    form = page.locator("#decide")
    form.get_by_label("Policy broken").select_option("illegal_goods")
    form.locator("select[name=action]").select_option("remove_message")
    form.get_by_label("Reason, as the user").fill("Offering drugs for sale breaks our rules and the law.")
    form.get_by_role("button", name="Decide").click()
    expect(page.locator(".decision")).to_contain_text("message " + message_id + " removed")
    assert platform.get_message(message_id).state is MessageState.REMOVED

    page.get_by_role("link", name="Statement of reasons sent to the user").click()
    statement_url = page.url
    expect(page.locator("#statement")).to_contain_text("Wir haben Ihre Nachricht entfernt.")  # the dealer's account is German
    page.get_by_role("link", name="EN").click()
    expect(page.locator("#statement")).to_contain_text("We removed your message.")
    expect(page.locator("#statement")).to_contain_text("a different person will review it")

    user = open_page(browser)
    user.goto(statement_url)
    user.get_by_role("link", name="Appeal this decision").click()
    user.get_by_label("Why is the decision wrong?").fill("I was warning my neighbours about this dealer, quoting him.")
    user.get_by_role("button", name="Send appeal").click()
    expect(user.locator("#appeal-status")).to_contain_text("being reviewed by a different person")

    second = open_page(browser)
    sign_in(second, live_server, "ravi_b", people["ravi_b"])
    second.goto(live_server.url + "/console/review/appeals")
    second.locator("#appeals").get_by_role("link", name="Appeal").first.click()
    expect(second.locator("#appeal-text")).to_contain_text("warning my neighbours")
    second.get_by_label("Uphold the appeal").check()
    second.get_by_label("Reason, as the user will read it").fill("Read in context, the message warned against the dealer.")
    second.get_by_role("button", name="Decide appeal").click()
    expect(second.get_by_text("Upheld: decision reversed")).to_be_visible()
    assert platform.get_message(message_id).state is MessageState.VISIBLE

    user.reload()
    expect(user.locator("#appeal-status")).to_contain_text("upheld")
    expect(user.locator("#statement")).to_contain_text("reversed")
    user.goto(receipt_url)
    expect(user.locator("#outcome")).to_contain_text("We acted on the content you reported")


def test_a_reviewer_outside_the_queue_gets_not_found(page, live_server) -> None:
    c = live_server.container
    secret = pyotp.random_base32()
    with c.db.transaction() as session:
        review.ensure_queues(session, actor=ACTOR, clock=c.clock)
        identity.create_user(
            session,
            actor=ACTOR,
            clock=c.clock,
            username="olga_b",
            display_name="Olga",
            email="olga@example.org",
            password=PASSWORD,
            roles=[Role.REVIEWER],
            totp_secret=secret,
        )
        review.add_member(session, actor=ACTOR, clock=c.clock, queue="general", username="olga_b")
        case_id = review.open_case(
            session,
            actor=ACTOR,
            clock=c.clock,
            subject_kind="account",
            subject_id="u1001",
            queue="terrorism",
            priority=90,
            source="rule",
            reason="rule hit",
        ).id
    sign_in(page, live_server, "olga_b", secret)
    page.goto(live_server.url + "/console/review")
    expect(page.locator("#queues")).to_contain_text("General")
    expect(page.locator("#queues")).not_to_contain_text("Terrorism")
    response = page.goto(f"{live_server.url}/console/review/cases/{case_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
