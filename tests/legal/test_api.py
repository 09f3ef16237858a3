"""The API and the discovery document, over HTTP: agencies file with their token, staff
handle, bad input gets problem details and creates nothing, agencies stay apart."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR, TEST_GRANTOR
from tests.legal.conftest import EPOC_ELEMENTS
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission
from trustdesk.legal.attachments import MAX_BYTES
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.models import LawfulRequest
from trustdesk.legal.signing import verify_document


def _agency_token(db, clock, agency) -> dict[str, str]:
    with db.transaction() as session:
        secret, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=TEST_GRANTOR,
            name=f"{agency.code}-api",
            scopes=[Permission.PORTAL_SUBMIT],
            days=30,
            agency_id=agency.id,
        )
    return {"Authorization": f"Bearer {secret}"}


def _body(world, **overrides):
    return {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": EPOC_ELEMENTS,
        "targets": [{"value": "@" + world.username}],
        **overrides,
    }


def _count(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count(LawfulRequest.id)))


def test_discovery_document_is_generated_from_settings_and_catalogue(client) -> None:
    doc = client.get("/.well-known/lawful-requests.json").json()
    assert doc["legal_entity"] == "Demo Messenger Ltd"
    assert doc["contact_points"]["portal"].endswith("/portal")
    assert {i["code"] for i in doc["accepted_instruments"]} == {i.code.value for i in load_catalogue().incoming}
    assert doc["instrument_catalogue_version"] == load_catalogue().version
    assert (
        doc["disclosure_signing_key"]["alg"] == "Ed25519"
        and len(base64.b64decode(doc["disclosure_signing_key"]["public_key"])) == 32
    )
    page = client.get("/lawful-requests")
    assert (
        page.status_code == 200
        and "European Production Order" in page.text
        and doc["disclosure_signing_key"]["key_id"] in page.text
    )


def test_an_agency_files_by_api_and_gets_a_signed_receipt(client, db, clock, legal, world) -> None:
    agency = legal.agency()
    response = client.post("/api/v1/lawful-requests", json=_body(world, emergency=True), headers=_agency_token(db, clock, agency))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["request"]["held"] and created["request"]["channel"] == "api"
    key = client.get("/.well-known/lawful-requests.json").json()["disclosure_signing_key"]["public_key"]
    assert verify_document(created["receipt"], key)


@pytest.mark.parametrize(
    ("overrides", "status", "detail"),
    [
        ({"instrument": "fbi_letter"}, 422, "not an instrument we accept"),
        ({"targets": [{"value": "https://t.me/suspect"}]}, 422, "Telegram link"),
        (
            {"attachments": [{"filename": "a.pdf", "content_base64": base64.b64encode(b"MZ....").decode()}]},
            422,
            "not a PDF or an image",
        ),
        (
            {"attachments": [{"filename": "a.pdf", "content_base64": base64.b64encode(b"%PDF-" + b"0" * MAX_BYTES).decode()}]},
            413,
            "limit is 10 MiB",
        ),
        ({"attachments": [{"filename": "a.pdf", "content_base64": "@@not base64@@"}]}, 422, "not valid base64"),
        ({"categories": ["everything"]}, 422, "categories"),
    ],
)
def test_bad_input_is_a_problem_and_creates_nothing(client, db, clock, legal, world, overrides, status, detail) -> None:
    headers = _agency_token(db, clock, legal.agency())
    before = _count(db)
    response = client.post("/api/v1/lawful-requests", json=_body(world, **overrides), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    assert _count(db) == before


def test_agencies_are_kept_apart(client, db, clock, legal, world) -> None:
    a, b = legal.agency(), legal.agency()
    created = client.post("/api/v1/lawful-requests", json=_body(world), headers=_agency_token(db, clock, a)).json()["request"]
    b_headers = _agency_token(db, clock, b)
    assert client.get(f"/api/v1/lawful-requests/{created['id']}", headers=b_headers).status_code == 404
    assert client.get("/api/v1/lawful-requests", headers=b_headers).json() == []
    assert (
        client.post(f"/api/v1/lawful-requests/{created['id']}/withdraw", json={"reason": "x"}, headers=b_headers).status_code
        == 404
    )


def test_an_agency_token_cannot_decide_or_read_the_registry(client, db, clock, legal, world) -> None:
    a = legal.agency()
    headers = _agency_token(db, clock, a)
    created = client.post("/api/v1/lawful-requests", json=_body(world), headers=headers).json()["request"]
    moved = client.post(
        f"/api/v1/lawful-requests/{created['id']}/transitions",
        json={"to_state": "verified", "reason": "self-approval"},
        headers=headers,
    )
    assert moved.status_code == 403
    assert client.get("/api/v1/agencies", headers=headers).status_code == 403


def test_staff_handle_a_request_end_to_end(client, db, clock, legal, world, staff) -> None:
    agency = legal.agency()
    created = client.post("/api/v1/lawful-requests", json=_body(world), headers=_agency_token(db, clock, agency)).json()[
        "request"
    ]
    legal_token = {"Authorization": "Bearer " + staff.token(Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE)}
    path = f"/api/v1/lawful-requests/{created['id']}"
    assert (
        client.post(path + "/transitions", json={"to_state": "verified", "reason": "r"}, headers=legal_token).status_code == 409
    )  # held
    assert (
        client.post(path + "/callbacks", json={"spoke_to": "Clerk", "outcome": "confirmed"}, headers=legal_token).status_code
        == 201
    )
    for state in ("verified", "under_review", "approved", "answered", "closed"):
        response = client.post(path + "/transitions", json={"to_state": state, "reason": f"to {state}"}, headers=legal_token)
        assert response.status_code == 200, response.text
    forbidden = client.post(path + "/transitions", json={"to_state": "received", "reason": "reopen"}, headers=legal_token)
    assert forbidden.status_code == 409 and "cannot become received" in forbidden.json()["detail"]
    history = client.get(path, headers=legal_token).json()["transitions"]
    assert [t["to_state"] for t in history] == ["received", "verified", "under_review", "approved", "answered", "closed"]


def test_staff_enter_a_request_for_a_registered_agency(client, legal, world, staff) -> None:
    agency = legal.agency()
    token = {"Authorization": "Bearer " + staff.token(Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE)}
    response = client.post(
        "/api/v1/lawful-requests", json=_body(world, agency_id=agency.id, sender_email="judge@elsewhere.example"), headers=token
    )
    assert response.status_code == 201, response.text
    assert response.json()["request"]["channel"] == "staff" and "domain_not_registered" in response.json()["request"]["flags"]
    missing = client.post("/api/v1/lawful-requests", json=_body(world), headers=token)
    assert missing.status_code == 422 and "which registered agency" in missing.json()["detail"]


def test_the_registry_by_api(client, staff) -> None:
    admin = {"Authorization": "Bearer " + staff.token(Permission.AGENCIES_MANAGE, Permission.REQUESTS_READ)}
    body = {
        "code": "be-fccu",
        "name": "Federal Computer Crime Unit",
        "country": "BE",
        "kind": "police",
        "email_domains": ["fccu.police.invalid"],
        "callback_phone": "+32 2 555 01 01",
        "callback_source": "police.be directory",
    }
    assert client.post("/api/v1/agencies", json=body, headers=admin).status_code == 201
    again = client.post("/api/v1/agencies", json=body, headers=admin)
    assert again.status_code == 409
    assert [a["code"] for a in client.get("/api/v1/agencies", headers=admin).json()] == ["be-fccu"]


def test_the_list_continues_page_by_page_with_nothing_hidden_past_a_cap(client, db, clock, legal, world) -> None:
    """Issue #19: the list stopped at 200 with no way on. A page at a time, `Link: rel=next`."""
    headers = _agency_token(db, clock, legal.agency())
    filed = [client.post("/api/v1/lawful-requests", json=_body(world), headers=headers).json()["request"]["id"] for _ in range(5)]
    seen, url, pages = [], "/api/v1/lawful-requests?limit=2", 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        seen += [r["id"] for r in response.json()]
        pages += 1
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
        assert (link is None) == (response.headers.get("x-next-cursor") is None)
    assert sorted(seen) == sorted(filed) and len(seen) == len(filed) and pages == 3
    assert client.get("/api/v1/lawful-requests?cursor=bm90LW91cnM", headers=headers).status_code == 422
