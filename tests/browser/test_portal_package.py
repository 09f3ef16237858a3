"""Issue #18: the officer downloads the delivered package from the request's page in the
portal (no link passed on outside the product), at 1280 px and at 390 px; an officer of
another agency gets 'not found', and both attempts are recorded."""

from __future__ import annotations

import io
import re
import zipfile

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import open_page
from tests.legal.disclosure.factories import legal_staff
from trustdesk.core.audit import Actor
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity.demo import DEMO_PASSWORD, ensure_demo_staff
from trustdesk.legal import service as legal_requests
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies
from trustdesk.legal.disclosure import service as disclosure
from trustdesk.legal.disclosure.models import PackageDownload
from trustdesk.legal.policy import service as policy
from trustdesk.legal.signing import load_or_create

CLAIRE = next(o for o in demo_officers() if o.email.startswith("claire."))
JONAS = next(o for o in demo_officers() if o.email.startswith("jonas."))
ACTOR = Actor("test", "browser")


@pytest.fixture(scope="module", autouse=True)
def _demo(live_server) -> None:
    c = live_server.container
    with c.db.transaction() as session:
        ensure_demo_staff(session, clock=c.clock, actor=ACTOR)
        ensure_demo_agencies(session, clock=c.clock, actor=ACTOR)


def _officer_sign_in(page, live_server, officer) -> None:
    page.goto(live_server.url + "/portal/login")
    page.get_by_label("E-mail").fill(officer.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(officer.totp_secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#portal-requests")).to_be_visible()


def _file(page) -> int:
    page.get_by_role("link", name="European Production Order (EPOC, Annex I)").click()
    page.locator('textarea[name="element.issuing_authority"]').fill("Juge d'instruction, cabinet 12, TJ Paris")
    page.locator('textarea[name="element.case_reference"]').fill("JI-2026-0140")
    page.locator('textarea[name="element.offence"]').fill("Escroquerie en bande organisée (art. 313-2 code pénal)")
    page.locator('textarea[name="element.grounds"]').fill("The subscriber data identify the author of the frauds.")
    page.locator('input[name="categories"][value="subscriber"]').check()
    page.locator('textarea[name="targets"]').fill("@lena_berlin")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request received.")
    return int(re.search(r"/portal/requests/(\d+)", page.url).group(1))


def _package(live_server, request_id: int) -> None:
    """The legal team's steps (decide, adopt, prepare, approve by a second person, package),
    as the console's pages call them."""
    c = live_server.container
    lena, max_ = legal_staff("legal", 1), legal_staff("legal2", 2)
    with c.db.transaction() as session:
        if legal_requests.get_request(session, principal=lena, request_id=request_id).held:
            legal_requests.record_callback(
                session, actor=ACTOR, clock=c.clock, principal=lena, request_id=request_id, spoke_to="Greffe", outcome="confirmed"
            )
        decision = policy.propose_decision(
            session, actor=ACTOR, clock=c.clock, principal=lena, platform=c.platform, request_id=request_id
        )
        policy.adopt(session, actor=ACTOR, clock=c.clock, principal=lena, decision_id=decision.id)
        prepared = disclosure.prepare(session, actor=ACTOR, clock=c.clock, principal=lena, request_id=request_id)
        disclosure.approve(session, actor=ACTOR, clock=c.clock, principal=max_, disclosure_id=prepared.id)
        disclosure.package(
            session,
            actor=ACTOR,
            clock=c.clock,
            principal=lena,
            platform=c.platform,
            key=load_or_create(c.settings.data_dir),
            blobs=c.blobs,
            disclosure_id=prepared.id,
        )


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_requesting_officer_downloads_the_package_from_the_request_page(browser, live_server) -> None:
    page = open_page(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    _officer_sign_in(page, live_server, CLAIRE)
    request_id = _file(page)
    expect(page.locator("#packages")).to_have_count(0)  # nothing delivered yet
    _package(live_server, request_id)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/portal/requests/{request_id}")
        section = page.locator("#packages")
        expect(section.get_by_role("heading", name="Delivered package")).to_be_visible()
        _fits(page, width)
        with page.expect_download() as fetched:
            section.get_by_role("link", name="Download package").click()
        data = open(fetched.value.path(), "rb").read()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert {"manifest.json", "manifest.sig"} <= set(archive.namelist())
        assert re.fullmatch(r"LR-\d{4}-\d{6}-[0-9a-f]{12}\.zip", fetched.value.suggested_filename)
    href = page.locator("#packages").get_by_role("link", name="Download package").get_attribute("href")
    page.context.close()

    other = open_page(browser, viewport={"width": 390, "height": 800})
    _officer_sign_in(other, live_server, JONAS)
    response = other.goto(live_server.url + href)
    assert response is not None and response.status == 404
    expect(other.get_by_role("alert")).to_contain_text("No request")
    other.context.close()

    with live_server.container.db.transaction() as session:
        rows = list(session.scalars(select(PackageDownload).order_by(PackageDownload.id)))
        assert [(r.allowed, r.reason) for r in rows] == [
            (True, "requesting officer"),
            (True, "requesting officer"),
            (False, "not the requesting officer"),
        ]
        actions = list(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("disclosure.download%")).order_by(AuditEntry.seq)
            )
        )
        assert actions == ["disclosure.download", "disclosure.download", "disclosure.download_refused"]
