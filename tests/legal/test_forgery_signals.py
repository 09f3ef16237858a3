"""Issue #16, item 9: the forged-request signals are the same on every route (portal, an
agency's system by API, staff entering an e-mail), and an agency not in the registry can be
recorded unverified, its request held until a person verifies the agency."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import staff_principal
from trustdesk.core.errors import Conflict, Forbidden, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, Role
from trustdesk.legal import registry
from trustdesk.legal import service as legal_requests
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Channel, Flag, submit_request
from trustdesk.legal.models import Agency, LawfulRequest
from trustdesk.legal.registry import NewAgency, lookalike_of, officer_principal

LENA = staff_principal(Role.LEGAL_OFFICER)


def token_of(agency: Agency, token_id: int = 7) -> Principal:
    return Principal(
        kind=PrincipalKind.TOKEN,
        id=token_id,
        name=f"{agency.code}-api",
        permissions=frozenset({Permission.PORTAL_SUBMIT}),
        agency_id=agency.id,
    )


def _emergency(legal, world, **extra):
    return legal.submission(
        world,
        instrument="us_emergency",
        categories=["subscriber", "content"],
        emergency=True,
        elements={"emergency_facts": "A hostage is held.", "supervisor": "Lt. Reyes, +1 202 555 0100"},
        **extra,
    )


def test_an_agency_system_gets_the_flags_an_officer_gets_in_the_portal(legal, world) -> None:
    us = legal.agency(IssuerKind.POLICE, country="US")
    by_portal = legal.file(officer_principal(legal.officer(us)), _emergency(legal, world))
    by_api = legal.file(token_of(us), _emergency(legal, world), channel=Channel.API)
    expected = {Flag.NEW_AGENCY, Flag.EMERGENCY_CONTENT, Flag.NEW_OFFICER_EMERGENCY_SENSITIVE}
    assert expected <= set(by_portal.flags) and Flag.NEW_OFFICER in by_portal.flags
    assert expected <= set(by_api.flags)  # before: an agency's system filed with no flag at all
    assert by_api.held and by_portal.held


def test_staff_entry_from_a_look_alike_domain_is_flagged_as_one(legal, world) -> None:
    fr = legal.agency(domain="justice.gouv.fr")
    legal.officer(fr, confirmed=True)
    forged = legal.file(
        LENA, legal.submission(world, sender_email="juge@justice-gouv.fr"), channel=Channel.STAFF, agency_id=fr.id
    )
    homoglyph = legal.file(
        LENA, legal.submission(world, sender_email="juge@justlce.gouv.fr"), channel=Channel.STAFF, agency_id=fr.id
    )
    elsewhere = legal.file(LENA, legal.submission(world, sender_email="juge@example.org"), channel=Channel.STAFF, agency_id=fr.id)
    for request in (forged, homoglyph):
        assert {Flag.DOMAIN_NOT_REGISTERED, Flag.LOOKALIKE_DOMAIN} <= set(request.flags) and request.held
    assert Flag.DOMAIN_NOT_REGISTERED in elsewhere.flags and Flag.LOOKALIKE_DOMAIN not in elsewhere.flags


def test_a_look_alike_of_another_agency_is_caught_too_from_the_api(legal, world) -> None:
    legal.agency(domain="polizei.berlin.de")
    other = legal.agency(domain="lka.example.de")
    request = legal.file(token_of(other), legal.submission(world, sender_email="kripo@polizei-berlin.de"), channel=Channel.API)
    assert Flag.LOOKALIKE_DOMAIN in request.flags


def test_contact_details_that_differ_from_the_registry_are_flagged_on_every_route(legal, world) -> None:
    fr = legal.agency()  # registry number +33 1 99 00 01 01
    officer = legal.officer(fr, confirmed=True)
    same = legal.submission(world, contact_phone="+33 1 99-00-01-01")
    other = legal.submission(world, contact_phone="+33 6 00 00 00 66")
    assert Flag.CONTACT_MISMATCH not in legal.file(officer_principal(officer), same).flags
    for principal, channel, agency_id in (
        (officer_principal(officer), Channel.PORTAL, None),
        (token_of(fr), Channel.API, None),
        (LENA, Channel.STAFF, fr.id),
    ):
        request = legal.file(principal, other, channel=channel, agency_id=agency_id)
        assert Flag.CONTACT_MISMATCH in request.flags and request.held, channel


def test_an_e_mail_from_someone_not_in_the_registry_counts_as_a_new_officer(legal, world) -> None:
    fr = legal.agency()
    known = legal.officer(fr, confirmed=True)
    unknown = legal.file(
        LENA, legal.submission(world, sender_email=f"stranger@{fr.email_domains[0]}"), channel=Channel.STAFF, agency_id=fr.id
    )
    confirmed = legal.file(LENA, legal.submission(world, sender_email=known.email), channel=Channel.STAFF, agency_id=fr.id)
    assert Flag.NEW_OFFICER in unknown.flags and unknown.held
    assert Flag.NEW_OFFICER not in confirmed.flags and Flag.NEW_AGENCY not in confirmed.flags


def _unverified_request(legal, world, db) -> LawfulRequest:
    new = NewAgency(
        name="Procura della Repubblica di Roma", country="IT", kind=IssuerKind.PROSECUTOR, email_domains=["giustizia.it"]
    )
    with db.transaction() as session:
        return submit_request(
            session,
            actor=TEST_ACTOR,
            clock=legal.clock,
            platform=legal.platform,
            blobs=legal.blobs,
            principal=LENA,
            submission=legal.submission(world, sender_email="pm@giustizia.it"),
            channel=Channel.STAFF,
            new_agency=new,
        )


def test_an_agency_not_in_the_registry_is_recorded_unverified_and_its_request_held(legal, world, db, clock) -> None:
    request = _unverified_request(legal, world, db)
    assert Flag.AGENCY_UNVERIFIED in request.flags and request.held
    with db.transaction() as session:
        agency = session.get(Agency, request.agency_id)
        assert not agency.verified and agency.callback_phone == "" and agency.code.startswith("unverified-it-")
    with db.transaction() as session, pytest.raises(Conflict, match="not verified"):
        legal_requests.record_callback(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, request_id=request.id, spoke_to="PM", outcome="confirmed"
        )
    with db.transaction() as session, pytest.raises(Conflict, match="held"):
        legal_requests.transition(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, request_id=request.id, to_state="verified", reason="r"
        )
    with db.transaction() as session:
        registry.verify_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=LENA,
            agency_id=request.agency_id,
            callback_phone="+39 06 0000 0001",
            callback_source="Ministero della Giustizia, official directory",
            reason="Directory checked; the office confirmed the case by telephone.",
        )
    with db.transaction() as session:
        legal_requests.record_callback(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, request_id=request.id, spoke_to="PM", outcome="confirmed"
        )
        assert not legal_requests.get_request(session, principal=LENA, request_id=request.id).held


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.ON_CALL, Role.TRIAGE])
def test_only_who_manages_the_registry_verifies_an_agency(legal, world, db, clock, role) -> None:
    request = _unverified_request(legal, world, db)
    with db.transaction() as session, pytest.raises(Forbidden):
        registry.verify_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(role),
            agency_id=request.agency_id,
            callback_phone="+39 06 0000 0001",
            callback_source="directory",
            reason="r",
        )


def test_an_authority_cannot_record_another_agency_and_officers_cannot_join_an_unverified_one(legal, world, db, clock) -> None:
    fr = legal.agency()
    new = NewAgency(name="X", country="IT", kind=IssuerKind.PROSECUTOR, email_domains=["giustizia.it"])
    for principal in (token_of(fr), officer_principal(legal.officer(fr))):
        with db.transaction() as session, pytest.raises(Forbidden):
            submit_request(
                session,
                actor=TEST_ACTOR,
                clock=clock,
                platform=legal.platform,
                blobs=legal.blobs,
                principal=principal,
                submission=legal.submission(world),
                channel=Channel.API,
                new_agency=new,
            )
    request = _unverified_request(legal, world, db)
    with db.transaction() as session:
        code = session.get(Agency, request.agency_id).code
    with db.transaction() as session, pytest.raises(NotFound):
        registry.self_register(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            agency_code=code,
            name="Mallory",
            rank="PM",
            email="m@giustizia.it",
            supervisor="x",
            password="correct horse battery",
        )


def test_staff_record_an_unverified_agency_by_api_and_verify_it(client, staff, world) -> None:
    token = {
        "Authorization": "Bearer " + staff.token(Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE, Permission.AGENCIES_MANAGE)
    }
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": {
            "issuing_authority": "Procura di Roma",
            "case_reference": "RG-1",
            "offence": "Estorsione (art. 629 c.p.)",
            "grounds": "The account sent the threats.",
        },
        "targets": [{"value": "@" + world.username}],
        "sender_email": "pm@giustizia.it",
        "contact_phone": "+39 333 000 0000",
        "unregistered_agency": {
            "name": "Procura di Roma",
            "country": "IT",
            "kind": "prosecutor",
            "email_domains": ["giustizia.it"],
        },
    }
    created = client.post("/api/v1/lawful-requests", json=body, headers=token)
    assert created.status_code == 201, created.text
    request = created.json()["request"]
    assert request["held"] and "agency_unverified" in request["flags"]
    assert "contact_mismatch" not in request["flags"]  # nothing to compare with before the agency is verified
    code = next(a["code"] for a in client.get("/api/v1/agencies", headers=token).json() if a["id"] == request["agency_id"])
    refused = client.post(
        f"/api/v1/lawful-requests/{request['id']}/callbacks", json={"spoke_to": "PM", "outcome": "confirmed"}, headers=token
    )
    assert refused.status_code == 409
    verify = {"callback_phone": "+39 06 0000 0001", "callback_source": "official directory", "reason": "checked"}
    assert client.post(f"/api/v1/agencies/{code}/verify", json=verify, headers=token).json()["verified"] is True
    assert client.post(f"/api/v1/agencies/{code}/verify", json=verify, headers=token).status_code == 409


DOMAIN = st.from_regex(r"[a-z]{4,10}\.[a-z]{2,4}\.[a-z]{2,3}", fullmatch=True)
LETTER = st.sampled_from("abcdefghjkmnpqrstuwxyz")


@settings(max_examples=300, deadline=None)
@given(real=DOMAIN, sub=st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_a_registered_domain_and_its_subdomains_are_never_look_alikes(real: str, sub: str) -> None:
    assert lookalike_of(f"x@{real}", [real]) is None
    assert lookalike_of(f"x@{sub}.{real}", [real]) is None


@settings(max_examples=300, deadline=None)
@given(real=DOMAIN, data=st.data())
def test_one_edit_of_a_registered_domain_is_always_a_look_alike(real: str, data) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(real) - 1))
    edit = data.draw(st.sampled_from(["insert", "delete", "substitute"]))
    char = data.draw(LETTER)
    forged = {
        "insert": real[:at] + char + real[at:],
        "delete": real[:at] + real[at + 1 :],
        "substitute": real[:at] + char + real[at + 1 :],
    }[edit]
    if forged == real or forged.endswith("." + real) or forged.startswith(".") or ".." in forged or forged.endswith("."):
        return
    assert lookalike_of(f"x@{forged}", [real]) == real
