"""The portal and the console pages over HTTP (the browser tests drive the same pages in
Chromium): officer sign-in with a second factor, filing on the instrument's form, isolation,
bad input answered on the form with nothing created, and the staff queue."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.legal.conftest import EPOC_ELEMENTS
from tests.legal.test_intake import VALID, _elements, _targets
from trustdesk.core.identity.permissions import Role
from trustdesk.legal import registry
from trustdesk.legal.attachments import MAX_BYTES
from trustdesk.legal.models import LawfulRequest
from trustdesk.legal.registry import officer_principal


def _portal_sign_in(client, legal, officer) -> str:
    response = client.post(
        "/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": legal.code(officer)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    legal.clock.advance(seconds=30)
    home = client.get("/portal")
    return re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)


def _form(csrf: str, world, **extra) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf,
        "instrument": "eu_epoc",
        "language": "fr",
        "categories": ["subscriber"],
        "targets": "@" + world.username,
    }
    data.update({f"element.{k}": v for k, v in EPOC_ELEMENTS.items()})
    data.update(extra)
    return data


def _count(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count(LawfulRequest.id)))


def test_officer_files_on_the_instrument_form_in_their_language(client, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    csrf = _portal_sign_in(client, legal, officer)
    form = client.get("/portal/requests/new?instrument=eu_epoc&lang=fr")
    assert "Référence du dossier" in form.text and "Motifs" in form.text
    files = {"attachments": ("ordonnance.pdf", b"%PDF-1.7 signed", "application/pdf")}
    response = client.post("/portal/requests", data=_form(csrf, world, emergency="on"), files=files, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert "Request received." in page.text and "LR-2026-" in page.text and "emergency" in page.text


def test_wrong_code_and_blocked_officer_are_refused_on_the_form(client, legal) -> None:
    officer = legal.officer(legal.agency())
    response = client.post("/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": "000000"})
    assert response.status_code == 401 and "one-time code is wrong" in response.text
    assert client.get("/portal", follow_redirects=False).headers["location"] == "/portal/login"


def test_bad_input_on_the_portal_is_answered_on_the_form_and_creates_nothing(client, db, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    csrf = _portal_sign_in(client, legal, officer)
    before = _count(db)
    cases = [
        (_form(csrf, world, targets="https://t.me/suspect"), None, 422, "Telegram link"),
        (_form(csrf, world), {"attachments": ("order.pdf", b"MZ program", "application/pdf")}, 422, "not a PDF or an image"),
        (
            _form(csrf, world),
            {"attachments": ("order.pdf", b"%PDF-" + b"0" * MAX_BYTES, "application/pdf")},
            413,
            "limit is 10 MiB",
        ),
        (_form(csrf, world, instrument="fbi_letter"), None, 422, "not an instrument we accept"),
    ]
    for data, files, status, message in cases:
        response = client.post("/portal/requests", data=data, files=files)
        assert response.status_code == status, (message, response.text[:300])
        assert message in response.text
    assert _count(db) == before
    refill = client.post("/portal/requests", data=_form(csrf, world, targets="https://t.me/suspect"))
    assert "JI-2026-0042" in refill.text, "what the officer typed is kept"


def test_an_officer_sees_only_their_agency(client, legal, world) -> None:
    a_officer = legal.officer(legal.agency(), confirmed=True)
    b_officer = legal.officer(legal.agency(), confirmed=True)
    csrf = _portal_sign_in(client, legal, a_officer)
    location = client.post("/portal/requests", data=_form(csrf, world), follow_redirects=False).headers["location"].split("?")[0]
    client.cookies.clear()
    _portal_sign_in(client, legal, b_officer)
    assert client.get(location).status_code == 404
    assert "No requests yet." in client.get("/portal").text


def test_messages_and_withdrawal_from_the_portal(client, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    csrf = _portal_sign_in(client, legal, officer)
    location = client.post("/portal/requests", data=_form(csrf, world), follow_redirects=False).headers["location"].split("?")[0]
    client.post(location + "/messages", data={"csrf_token": csrf, "body": "The suspect also uses a second account."})
    client.post(location + "/withdraw", data={"csrf_token": csrf, "reason": "Case closed"})
    page = client.get(location)
    assert "The suspect also uses a second account." in page.text and ">withdrawn<" in page.text
    stale = client.post(location + "/messages", data={"csrf_token": "forged", "body": "x"})
    assert stale.status_code == 403


def test_staff_queue_puts_the_emergency_first_with_its_clock(client, legal, world, staff, clock) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    ordinary = legal.file(officer_principal(officer), legal.submission(world))
    urgent = legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    page = client.get("/console/requests").text
    rows = re.findall(r'data-reference="([^"]+)"', page)
    assert rows[:2] == [urgent.reference, ordinary.reference]
    assert "7h 59m left" in page  # sign-in moved the clock by 30 seconds
    detail = client.get(f"/console/requests/{urgent.id}").text
    assert "+33199000101" in detail and "held for call-back" in detail


def test_console_refuses_a_reviewer(client, staff) -> None:
    staff.sign_in(client, staff.create(Role.REVIEWER))
    assert client.get("/console/requests").status_code == 403


def test_staff_manage_the_registry_in_the_console(client, staff, db) -> None:
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    agency = {
        "csrf_token": csrf,
        "code": "be-fccu",
        "name": "Federal Computer Crime Unit",
        "country": "be",
        "kind": "police",
        "email_domains": "fccu.police.invalid",
        "callback_phone": "+32 2 555 01 01",
        "callback_source": "police.be directory",
    }
    bad = client.post("/console/requests/agencies", data={**agency, "callback_phone": "ask the sender"})
    assert bad.status_code == 422 and "call-back number" in bad.text and "Federal Computer Crime Unit" in bad.text
    with db.transaction() as session:
        assert registry.list_agencies(session) == []
    assert "Registered Federal Computer Crime Unit." in client.post("/console/requests/agencies", data=agency).text
    officer = {
        "csrf_token": csrf,
        "name": "An Peeters",
        "rank": "Inspector",
        "email": "an.peeters@fccu.police.invalid",
        "supervisor": "Chief, +32 2 555 01 02",
        "password": PASSWORD,
    }
    added = client.post("/console/requests/agencies/be-fccu/officers", data=officer)
    assert "otpauth://totp/" in added.text and "An Peeters" in added.text
    blocked = client.post(
        f"/console/requests/officers/{_officer_id(db)}/block", data={"csrf_token": csrf, "reason": "mailbox compromised"}
    )
    assert "An Peeters is now blocked." in blocked.text


def _officer_id(db) -> int:
    with db.transaction() as session:
        return registry.list_officers(session)[0].id


@pytest.mark.parametrize("code", sorted(VALID))
def test_every_instrument_can_be_filed_through_the_portal(code, client, legal, world) -> None:
    kind, categories, extra = VALID[code]
    officer = legal.officer(legal.agency(kind), confirmed=True)
    csrf = _portal_sign_in(client, legal, officer)
    assert client.get(f"/portal/requests/new?instrument={code}").status_code == 200
    data: dict[str, object] = {
        "csrf_token": csrf,
        "instrument": code,
        "categories": categories,
        "targets": "\n".join(v for _, v in _targets(code, world)),
    }
    data.update({f"element.{k}": v for k, v in _elements(code).items()})
    for key, value in extra.items():
        data[key] = "on" if value is True else f"{value:%Y-%m-%d}"
    response = client.post("/portal/requests", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    page = client.get(response.headers["location"])
    assert "Request received." in page.text and '<li class="bad">' not in page.text, "every check passes"


def test_times_are_shown_in_the_viewers_zone(client, legal, world, staff) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    legal.file(officer_principal(officer), legal.submission(world, emergency=True))  # received 2026-03-28 23:30 UTC
    staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    client.cookies.set("td_tz", "Europe/Paris")
    page = client.get("/console/requests").text
    assert "2026-03-29 09:30:00 CEST" in page, "8 hours after 00:30 CET is 09:30 CEST across the change"


def test_an_officer_registers_waits_for_verification_then_signs_in(client, legal, staff, db) -> None:
    agency = legal.agency(domain="pj.interieur.invalid")
    form = {
        "agency": agency.code,
        "name": "Hugo Bernard",
        "rank": "Commandant",
        "email": "hugo.bernard@pj.interieur.invalid",
        "supervisor": "Commissaire divisionnaire, +33 1 99 00 01 09",
        "password": PASSWORD,
    }
    outside = client.post("/portal/register", data={**form, "email": "hugo@gmail.example"})
    assert outside.status_code == 422 and "not in a domain registered" in outside.text
    registered = client.post("/portal/register", data=form)
    assert registered.status_code == 200 and "shown only once" in registered.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', registered.text).group(1)
    with db.transaction() as session:
        [officer] = registry.list_officers(session, agency_id=agency.id)
    waiting = client.post(
        "/portal/login", data={"email": form["email"], "password": PASSWORD, "totp": pyotp.TOTP(secret).at(legal.clock.now())}
    )
    assert waiting.status_code == 403 and "awaiting verification" in waiting.text
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    client.post(
        f"/console/requests/officers/{officer.id}/verify",
        data={"csrf_token": csrf, "reason": "confirmed by call to the registry number"},
    )
    client.cookies.clear()
    legal.clock.advance(seconds=30)
    assert _portal_sign_in(client, legal, officer)


def test_staff_enter_a_paper_order_and_download_its_scan(client, legal, staff, world, db) -> None:
    agency = legal.agency()
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    assert "Enter a request received by post or e-mail" in client.get("/console/requests/new").text
    data = _form(csrf, world, agency_id=str(agency.id), **{"element.grounds": ""})
    files = {"attachments": ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png")}
    entered = client.post("/console/requests/new", data=data, files=files, follow_redirects=False)
    assert entered.status_code == 303, entered.text[:400]
    page = client.get(entered.headers["location"]).text
    assert "Grounds: why the data are necessary and proportionate: missing" in page and "held for call-back" in page
    link = re.search(r'href="(/console/requests/\d+/attachments/\d+)"', page).group(1)
    download = client.get(link)
    assert download.content.startswith(b"\x89PNG") and download.headers["x-content-type-options"] == "nosniff"
    unknown = client.post("/console/requests/new", data=_form(csrf, world, agency_id="999999"))
    assert unknown.status_code == 404 and "No agency" in unknown.text


def test_the_registry_page_title_is_plain_text(client, staff) -> None:
    """The page's <title> once swallowed the whole registration form."""
    from trustdesk.core.identity.permissions import Role

    staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    page = client.get("/console/requests/agencies")
    assert page.status_code == 200
    title = page.text[page.text.index("<title>") + 7 : page.text.index("</title>")]
    assert title.strip() == "Authority registry · Trustdesk"


def test_the_staff_queue_pages_past_its_first_page(client, legal, world, staff, monkeypatch) -> None:
    from trustdesk.legal.pages import console

    monkeypatch.setattr(console, "QUEUE_PAGE", 2)
    officer = legal.officer(legal.agency(), confirmed=True)
    filed = {legal.file(officer_principal(officer), legal.submission(world)).reference for _ in range(3)}
    staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    first = client.get("/console/requests").text
    more = re.search(r'href="([^"]+)" rel="next"', first)
    assert more, "no link to the next page"
    second = client.get(more.group(1).replace("&amp;", "&")).text
    seen = re.findall(r'data-reference="([^"]+)"', first) + re.findall(r'data-reference="([^"]+)"', second)
    assert set(seen) == filed and len(seen) == 3
    assert 'rel="next"' not in second and "First page" in second
