"""Issue #18, queues that scale with a working day and cases with their context, in a real
browser at 1280 px and at 390 px: a reviewer filters and sorts a queue, saves the view,
moves with j/k, selects with x, previews a bulk decision (nothing applied), claims the next
case with c and reads it in context (signals in words, media blurred until r, strikes and
earlier decisions); a legal officer filters the requests queue and saves a view."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import open_page
from trustdesk.core.audit import Actor
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.demo import DEMO_PASSWORD, DEMO_STAFF, ensure_demo_staff
from trustdesk.core.identity.permissions import Role
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies
from trustdesk.legal.intake import Channel, Submission, submit_request
from trustdesk.legal.models import LawfulRequest, Officer
from trustdesk.legal.registry import officer_principal
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Case

PASSWORD = "a browser test password"
ACTOR = Actor("test", "browser")
LEGAL = next(s for s in DEMO_STAFF if s.username == "legal")
SIGNALS = {
    "hash_match_pdq": {"bank": "tat-demo", "entry_id": 7, "signal_type": "pdq", "distance": 12},
    "rule": "poster_rule",
    "ruleset_version": "v3",
}


@pytest.fixture(scope="module")
def world(live_server):  # type: ignore[no-untyped-def]
    c = live_server.container
    cast = seed_demo(c.platform)
    secret = pyotp.random_base32()
    with c.db.transaction() as session:
        review.ensure_queues(session, actor=ACTOR, clock=c.clock)
        ensure_demo_staff(session, clock=c.clock, actor=ACTOR)
        ensure_demo_agencies(session, clock=c.clock, actor=ACTOR)
        identity.create_user(
            session,
            actor=ACTOR,
            clock=c.clock,
            username="rosa_q",
            display_name="Rosa",
            email="rosa_q@example.org",
            password=PASSWORD,
            roles=[Role.REVIEWER],
            totp_secret=secret,
        )
        review.add_member(session, actor=ACTOR, clock=c.clock, queue="general", username="rosa_q")
        opened = {}
        for key, priority, hint, signals in [
            ("propaganda_poster", 90, "terrorism", SIGNALS),
            ("drug_ad", 75, "illegal_goods", {}),
            ("extortion_threat", 40, "extortion", {}),
            ("drug_ad_2", 20, "illegal_goods", {}),
        ]:
            case = review.open_case(
                session,
                actor=ACTOR,
                clock=c.clock,
                subject_kind="message",
                subject_id=cast.messages[key],
                queue="general",
                priority=priority,
                source="notice",
                reason=f"reported: {key.replace('_', ' ')}",
                policy_hint=hint,
                signals=signals,
            )
            opened[key] = case.id
        _file_requests(session, live_server)
    return {"secret": secret, "cases": opened}


def _file_requests(session, live_server) -> None:  # type: ignore[no-untyped-def]
    c = live_server.container
    for email, emergency in [("claire.", True), ("katrin.", False)]:
        raw = next(o for o in demo_officers() if o.email.startswith(email))
        officer = session.scalars(select(Officer).where(Officer.email == raw.email)).one()
        submit_request(
            session,
            actor=ACTOR,
            clock=c.clock,
            platform=c.platform,
            blobs=c.blobs,
            principal=officer_principal(officer),
            submission=Submission(
                instrument="eu_epoc",
                categories=["subscriber"],
                elements={
                    "issuing_authority": "Investigating judge",
                    "case_reference": f"CASE-{email}",
                    "offence": "Fraud",
                    "grounds": "The subscriber data identify the author.",
                },
                targets=[(None, "@lena_berlin")],
                emergency=emergency,
            ),
            channel=Channel.PORTAL,
            max_targets=c.settings.lawful_request_max_targets,
        )


def _sign_in(page, live_server, username: str, password: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("One-time code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    rows = page.locator("#cases tbody tr[data-href]")
    return [rows.nth(i).get_attribute("data-href").rsplit("/", 1)[-1] for i in range(rows.count())]


def test_a_reviewer_works_through_the_queue_by_filter_view_keyboard_and_claim_next(browser, live_server, world) -> None:
    cases = {k: str(v) for k, v in world["cases"].items()}
    page = open_page(browser, viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server, "rosa_q", PASSWORD, world["secret"])
    queue = live_server.url + "/console/review/queues/general"
    page.goto(queue)
    assert _ids(page) == [cases["propaganda_poster"], cases["drug_ad"], cases["extortion_threat"], cases["drug_ad_2"]]

    filters = page.locator("#filters")
    filters.get_by_label("Policy").select_option("illegal_goods")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#cases tbody tr[data-href]")).to_have_count(2)
    page.locator("#cases thead").get_by_role("link", name="Opened").click()  # oldest first
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    assert _ids(page) == [cases["drug_ad"], cases["drug_ad_2"]]
    page.locator("#views").get_by_label("Save these filters as").fill("Goods, oldest first")
    page.locator("#views").get_by_role("button", name="Save view").click()
    page.goto(queue)
    page.locator("#views").get_by_role("link", name="Goods, oldest first").click()
    expect(page.locator("#cases tbody tr[data-href]")).to_have_count(2)
    expect(page.locator("#filters").get_by_label("Policy")).to_have_value("illegal_goods")

    page.goto(queue)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.locator("h1").click()
    for key in ("j", "j", "x", "k", "x"):
        page.keyboard.press(key)
    rows = page.locator("#cases tbody tr[data-href]")
    expect(rows.nth(0)).to_have_class(re.compile("current"))
    expect(rows.nth(0).locator("input[type=checkbox]")).to_be_checked()
    expect(rows.nth(1).locator("input[type=checkbox]")).to_be_checked()
    page.locator("#bulk-decide > summary").click()
    page.locator("#bulk-decide").get_by_label("No action: it breaks neither law nor policy").check()
    page.locator("#bulk-decide textarea[name=reason]").fill("Satire, no breach.")
    page.locator("#bulk-decide").get_by_role("button", name="Preview").click()
    expect(page.locator("#preview tbody tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Confirm 2 decisions")).to_be_visible()
    with live_server.container.db.transaction() as session:  # a preview applies nothing
        states = set(session.scalars(select(Case.state).where(Case.id.in_([int(cases["propaganda_poster"])]))))
        assert states == {"open"}

    page.goto(queue)
    page.locator("h1").click()
    page.keyboard.press("c")  # claim next: the most urgent case no one holds
    expect(page).to_have_url(re.compile(rf"/console/review/cases/{cases['propaganda_poster']}$"))
    expect(page.get_by_text("You hold this case")).to_be_visible()
    _the_case_in_context(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#strikes")).to_be_visible()
    _fits(page, 390)
    page.goto(queue)
    expect(page.get_by_role("button", name="Claim next")).to_be_visible()
    _fits(page, 390)
    page.locator("h1").click()
    page.keyboard.press("c")  # the next one: the first is already ours
    expect(page).to_have_url(re.compile(rf"/console/review/cases/{cases['drug_ad']}$"))
    page.context.close()


def _the_case_in_context(page) -> None:  # type: ignore[no-untyped-def]
    signals = page.locator("#notices .signal")
    expect(signals.filter(has_text="Hash match in bank 'tat-demo', entry 7, signal pdq, distance 12 of 256 bits.")).to_have_count(
        1
    )
    expect(signals.filter(has_text="Rule poster_rule (ruleset version v3) matched.")).to_have_count(1)
    expect(page.locator("#context li.subject")).to_contain_text("Iron Dawn Front")
    figure = page.locator("figure.media").first
    expect(figure).to_have_class(re.compile(r"\bblur\b"))
    expect(figure).not_to_have_class(re.compile("revealed"))
    page.locator("h1").click()
    page.keyboard.press("r")
    expect(figure).to_have_class(re.compile("revealed"))
    expect(page.locator("#strikes")).to_contain_text("No strikes.")
    expect(page.locator("#earlier-decisions")).to_contain_text("No earlier decisions")
    page.keyboard.press("e")
    assert page.evaluate("!!document.activeElement.closest('#escalate')")
    page.locator("h1").click()
    page.keyboard.press("d")
    assert page.evaluate("!!document.activeElement.closest('#decide')")


def test_a_legal_officer_filters_the_requests_queue_and_saves_a_view(browser, live_server, world) -> None:
    page = open_page(browser, viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server, LEGAL.username, DEMO_PASSWORD, LEGAL.totp_secret)
    page.goto(live_server.url + "/console/requests")
    rows = page.locator("#request-queue tbody tr[data-href]")
    expect(rows).to_have_count(2)
    filters = page.locator("#filters")
    filters.get_by_label("Emergencies only").check()
    filters.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    filters = page.locator("#filters")
    filters.get_by_label("Emergencies only").uncheck()
    filters.get_by_label("Country").select_option("DE")
    filters.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    page.locator("#views").get_by_label("Save these filters as").fill("Germany")
    page.locator("#views").get_by_role("button", name="Save view").click()
    expect(page.locator("#views").get_by_role("link", name="Germany")).to_be_visible()
    with live_server.container.db.transaction() as session:
        german = session.scalars(select(LawfulRequest).order_by(LawfulRequest.id.desc())).first()
        reference = german.reference
    expect(rows.first).to_have_attribute("data-reference", reference)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/console/requests")
    page.locator("#filters").get_by_label("Search", exact=True).fill(reference)
    page.locator("#filters").get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    _fits(page, 390)
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/console/requests/\d+$"))
    page.context.close()
