"""Issue #16, item 12: a request an agency's system filed with its token is answered to that
system through the API (list, fetch; the same rule, expiry and record as the officer's
link), and the authority asks for a preservation extension and sees its state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import PERIOD_END, PERIOD_START, Cast
from tests.legal.test_forgery_signals import token_of
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, Forbidden
from trustdesk.core.identity.permissions import Permission
from trustdesk.legal.disclosure import delivery, packages, preservation
from trustdesk.legal.disclosure.models import PackageDownload
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Channel, Submission
from trustdesk.legal.registry import officer_principal

ELEMENTS = {
    "issuing_authority": "Juge d'instruction, TJ Paris",
    "case_reference": "JI-2026-0200",
    "offence": "Trafic de stupéfiants (art. 222-37 code pénal)",
    "grounds": "The account arranges deliveries; subscriber data identify its holder.",
}


def _filed_by_system(legal, cast: Cast, agency):
    submission = Submission(
        instrument="eu_epoc",
        categories=["subscriber"],
        elements=ELEMENTS,
        targets=[("account_id", cast.suspect)],
        period_start=PERIOD_START,
        period_end=PERIOD_END,
    )
    return legal.file(token_of(agency), submission, channel=Channel.API)


def _packaged(legal, desk: Desk, cast: Cast):
    agency = legal.agency(IssuerKind.INVESTIGATING_JUDGE)
    request = _filed_by_system(legal, cast, agency)
    desk.call_back(request.id)
    row, _ = desk.package(desk.through_approval(request.id))  # before: Conflict, no officer to deliver to
    return agency, request, row


def _open(desk: Desk, principal, package_id: int):
    with desk.db.transaction() as session:
        return delivery.open_for_agency(
            session,
            actor=TEST_ACTOR,
            clock=desk.clock,
            principal=principal,
            package_id=package_id,
            blobs=desk.blobs,
            data_dir=desk.data_dir,
        )


def test_a_request_filed_by_an_agency_system_is_packaged_for_that_agency(legal, desk: Desk, cast: Cast) -> None:
    agency, request, row = _packaged(legal, desk, cast)
    assert row.officer_id is None and row.agency_id == agency.id
    with desk.db.transaction() as session:
        ready = delivery.ready_for_agency(session, clock=desk.clock, principal=token_of(agency, token_id=99))
        assert [p.id for p in ready] == [row.id]
    opened = _open(desk, token_of(agency, token_id=99), row.id)  # any token of the agency
    assert opened.allowed and packages.verify(opened.data, public_key_b64=desk.key.public_key_b64).ok
    with desk.db.transaction() as session:
        (download,) = session.scalars(select(PackageDownload).where(PackageDownload.package_id == row.id)).all()
        assert download.allowed and download.reason == "requesting agency's system"
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "disclosure.download")).one()


def test_another_agency_an_officer_and_staff_are_refused_and_each_refusal_is_recorded(legal, desk: Desk, cast: Cast) -> None:
    agency, _, row = _packaged(legal, desk, cast)
    other = legal.agency()
    with desk.db.transaction() as session:
        assert delivery.ready_for_agency(session, clock=desk.clock, principal=token_of(other)) == []
    refused = _open(desk, token_of(other), row.id)
    assert not refused.allowed and refused.status == 404
    colleague = officer_principal(legal.officer(agency, confirmed=True))
    for principal in (colleague, LENA):
        with desk.db.transaction() as session, pytest.raises(Forbidden):
            delivery.ready_for_agency(session, clock=desk.clock, principal=principal)
    with desk.db.transaction() as session:
        rows = session.scalars(select(PackageDownload).where(PackageDownload.package_id == row.id)).all()
        assert [(r.allowed, r.reason) for r in rows] == [(False, "not the requesting agency's system")]


def test_the_package_expires_for_the_system_as_the_link_does(legal, desk: Desk, cast: Cast) -> None:
    agency, _, row = _packaged(legal, desk, cast)
    desk.clock.advance(hours=24 * 30)
    with desk.db.transaction() as session:
        assert delivery.ready_for_agency(session, clock=desk.clock, principal=token_of(agency)) == []
    gone = _open(desk, token_of(agency), row.id)
    assert not gone.allowed and gone.status == 410


def test_a_request_entered_by_staff_still_has_nobody_to_deliver_to(legal, desk: Desk, cast: Cast) -> None:
    agency = legal.agency(IssuerKind.INVESTIGATING_JUDGE)
    submission = Submission(
        instrument="eu_epoc", categories=["subscriber"], elements=ELEMENTS, targets=[("account_id", cast.suspect)]
    )
    request = legal.file(LENA, submission, channel=Channel.STAFF, agency_id=agency.id)
    desk.call_back(request.id)
    with pytest.raises(Conflict, match="entered by staff"):
        desk.package(desk.through_approval(request.id))


def test_the_agency_system_lists_and_fetches_through_the_api(
    client, container, db, clock, platform, legal, cast: Cast, staff
) -> None:
    from tests.legal.test_api import _agency_token

    desk = Desk(db, clock, platform, legal.data_dir, container.blobs)
    agency = legal.agency(IssuerKind.INVESTIGATING_JUDGE)
    headers = _agency_token(db, clock, agency)
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": ELEMENTS,
        "targets": [{"kind": "account_id", "value": cast.suspect}],
        "period_start": PERIOD_START.isoformat(),
        "period_end": PERIOD_END.isoformat(),
    }
    request_id = client.post("/api/v1/lawful-requests", json=body, headers=headers).json()["request"]["id"]
    desk.call_back(request_id)
    row, _ = desk.package(desk.through_approval(request_id))
    listed = client.get("/api/v1/disclosure-packages", headers=headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [row.id] and not listed.json()[0]["downloaded"]
    fetched = client.get(f"/api/v1/disclosure-packages/{row.id}", headers=headers)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/zip"
    assert packages.verify(fetched.content, public_key_b64=desk.key.public_key_b64).ok
    assert client.get("/api/v1/disclosure-packages", headers=headers).json()[0]["downloaded"]
    other = _agency_token(db, clock, legal.agency())
    assert client.get(f"/api/v1/disclosure-packages/{row.id}", headers=other).status_code == 404
    assert client.get("/api/v1/disclosure-packages", headers=other).json() == []
    legal_token = {"Authorization": "Bearer " + staff.token(Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE)}
    assert client.get("/api/v1/disclosure-packages", headers=legal_token).status_code == 403


# -- preservation extensions asked by the authority ----------------------------------------


def _preservation_by_system(legal, cast: Cast):
    agency = legal.agency(IssuerKind.PROSECUTOR)
    submission = Submission(
        instrument="eu_epoc_pr",
        categories=["traffic", "content"],
        elements={"issuing_authority": "Parquet de Paris", "case_reference": "P-2026-0091", "offence": "Trafic (art. 222-37)"},
        targets=[("account_id", cast.suspect)],
        period_start=PERIOD_START,
        period_end=PERIOD_END,
    )
    return agency, legal.file(token_of(agency), submission, channel=Channel.API)


def _ask(desk: Desk, principal, request_id: int, reason: str = "the production order is being drafted"):
    with desk.db.transaction() as session:
        return preservation.ask_extension(
            session, actor=TEST_ACTOR, clock=desk.clock, principal=principal, request_id=request_id, reason=reason
        )


def test_the_authority_extends_its_preservation_once_and_its_holds_follow(legal, desk: Desk, cast: Cast) -> None:
    agency, request = _preservation_by_system(legal, cast)
    desk.call_back(request.id)
    desk.adopt(desk.decide(request.id))
    with desk.db.transaction() as session:
        (hold,) = preservation.freeze(
            session, actor=TEST_ACTOR, clock=desk.clock, principal=LENA, platform=desk.platform, request_id=request.id
        )
    first = _ask(desk, token_of(agency), request.id)
    assert first.state == "granted" and (first.expires_after - first.expires_before) == timedelta(days=30)
    second = _ask(desk, token_of(agency), request.id)
    assert second.state == "refused" and "at most 1" in second.detail
    with desk.db.transaction() as session:
        state = preservation.preservation_state(session, principal=token_of(agency), request_id=request.id)
        assert state.extensions == 1 and state.max_extensions == 1
        assert [a.state for a in state.asks] == ["granted", "refused"]
        assert state.holds[0]["extensions"] == 1 and state.holds[0]["expires_at"] == state.expires_at
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "hold.extend")).one().object_id == str(hold.id)


def test_a_lapsed_preservation_is_refused_and_another_agency_cannot_ask(legal, desk: Desk, cast: Cast) -> None:
    agency, request = _preservation_by_system(legal, cast)
    from trustdesk.core.errors import NotFound

    with pytest.raises(NotFound):
        _ask(desk, token_of(legal.agency()), request.id)
    desk.clock.advance(days=61)
    lapsed = _ask(desk, token_of(agency), request.id)
    assert lapsed.state == "refused" and "lapsed" in lapsed.detail


def test_an_officer_asks_in_the_portal_and_a_production_order_has_no_extension(legal, desk: Desk, cast: Cast) -> None:
    agency = legal.agency(IssuerKind.PROSECUTOR)
    officer = officer_principal(legal.officer(agency, confirmed=True))
    submission = Submission(
        instrument="eu_epoc_pr",
        categories=["traffic"],
        elements={"issuing_authority": "Parquet", "case_reference": "P-1", "offence": "Trafic"},
        targets=[("account_id", cast.suspect)],
        period_start=PERIOD_START,
        period_end=PERIOD_END,
    )
    request = legal.file(officer, submission)
    assert _ask(desk, officer, request.id).state == "granted"
    production = _filed_by_system(legal, cast, agency)
    with pytest.raises(Conflict, match="not a preservation order"):
        _ask(desk, token_of(agency), production.id)


def test_the_authority_asks_and_follows_through_the_api(client, db, clock, legal, cast: Cast) -> None:
    from tests.legal.test_api import _agency_token

    agency = legal.agency(IssuerKind.PROSECUTOR)
    headers = _agency_token(db, clock, agency)
    body = {
        "instrument": "eu_epoc_pr",
        "categories": ["traffic"],
        "elements": {"issuing_authority": "Parquet", "case_reference": "P-2", "offence": "Trafic"},
        "targets": [{"kind": "account_id", "value": cast.suspect}],
        "period_start": PERIOD_START.isoformat(),
        "period_end": PERIOD_END.isoformat(),
    }
    request_id = client.post("/api/v1/lawful-requests", json=body, headers=headers).json()["request"]["id"]
    asked = client.post(
        f"/api/v1/lawful-requests/{request_id}/preservation/extensions", json={"reason": "drafting"}, headers=headers
    )
    assert asked.status_code == 201 and asked.json()["state"] == "granted"
    state = client.get(f"/api/v1/lawful-requests/{request_id}/preservation", headers=headers).json()
    assert state["extensions"] == 1 and [a["state"] for a in state["asks"]] == ["granted"]
    other = _agency_token(db, clock, legal.agency())
    assert client.get(f"/api/v1/lawful-requests/{request_id}/preservation", headers=other).status_code == 404
    empty = client.post(f"/api/v1/lawful-requests/{request_id}/preservation/extensions", json={"reason": ""}, headers=headers)
    assert empty.status_code == 422
