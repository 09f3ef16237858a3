"""The legal team's API and console pages, and the officer's portal download: the whole way
from a proposed decision to a package in the requesting officer's hands, over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, StaffFactory
from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.factories import Filed, Scenarios
from trustdesk.core.identity.permissions import Role
from trustdesk.legal.disclosure import packages
from trustdesk.legal.disclosure.models import PackageDownload
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.signing import load_or_create


class Persona:
    """One person's cookies on the shared test client (one app, one lifespan)."""

    def __init__(self, client: TestClient, cookies: dict[str, str], csrf: str = "") -> None:
        self.client, self.cookies, self.headers = client, cookies, {"X-CSRF-Token": csrf} if csrf else {}

    def __getattr__(self, method: str):
        def call(url: str, **kw):
            self.client.cookies.clear()
            for name, value in self.cookies.items():
                self.client.cookies.set(name, value)
            return getattr(self.client, method)(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        return call


def _staff(client: TestClient, staff: StaffFactory, name: str) -> Persona:
    client.cookies.clear()
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER, username=name))
    return Persona(client, dict(client.cookies), csrf)


def _officer(client: TestClient, legal: LegalFactory, officer) -> Persona:
    client.cookies.clear()
    response = client.post(
        "/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": legal.code(officer)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return Persona(client, dict(client.cookies))


def _to_package(lena: Persona, maxp: Persona, filed: Filed) -> dict:
    rid = filed.request.id
    decision = lena.post(f"/api/v1/legal/requests/{rid}/decisions", json={})
    assert decision.status_code == 201, decision.text
    assert lena.post(f"/api/v1/legal/decisions/{decision.json()['id']}/adopt").status_code == 200
    disclosure = lena.post(f"/api/v1/legal/requests/{rid}/disclosures", json={"note": "as decided"}).json()
    refused = lena.post(f"/api/v1/legal/disclosures/{disclosure['id']}/approve", json={})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert "preparer" in refused.json()["detail"]
    assert maxp.post(f"/api/v1/legal/disclosures/{disclosure['id']}/approve", json={}).json()["state"] == "approved"
    built = lena.post(f"/api/v1/legal/disclosures/{disclosure['id']}/package")
    assert built.status_code == 201, built.text
    return built.json()


def test_from_decision_to_the_officers_download_over_http(client, staff, legal, scenarios: Scenarios, settings) -> None:
    filed = scenarios.us_emergency_request()
    lena, maxp = _staff(client, staff, "lena"), _staff(client, staff, "max")
    assert (
        lena.post(
            f"/api/v1/lawful-requests/{filed.request.id}/callbacks", json={"spoke_to": "Duty sergeant", "outcome": "confirmed"}
        ).status_code
        == 201
    )
    built = _to_package(lena, maxp, filed)
    response = _officer(client, legal, filed.officer).get(built["link"].removeprefix(str(client.base_url)))
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert packages.verify(response.content, public_key_b64=load_or_create(settings.data_dir).public_key_b64).ok
    numbers = lena.get(
        "/api/v1/legal/transparency/numbers", params={"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
    )
    assert numbers.json()["countries"][0]["data_produced"] == 1


def test_another_officers_download_is_refused_and_recorded(client, staff, legal, scenarios: Scenarios, settings, db) -> None:
    filed = scenarios.french_judge_content_order()
    legal.clock.advance(days=11)  # past the enforcing-state wait
    lena, maxp = _staff(client, staff, "lena"), _staff(client, staff, "max")
    built = _to_package(lena, maxp, filed)
    colleague = legal.officer(filed.agency)
    response = _officer(client, legal, colleague).get(built["link"].removeprefix(str(client.base_url)))
    assert response.status_code == 403 and "requesting officer alone" in response.text
    with db.transaction() as session:
        rows = list(session.scalars(select(PackageDownload)))
    assert [(r.allowed, r.officer_id) for r in rows] == [(False, colleague.id)]


def test_console_pages_show_the_decision_and_refuse_bad_actions_clearly(client, staff, scenarios: Scenarios) -> None:
    filed = scenarios.journalist_insult_order()
    csrf = _staff(client, staff, "lena").headers["X-CSRF-Token"]
    page = client.post(f"/console/legal/requests/{filed.request.id}/propose", data={"csrf_token": csrf}, follow_redirects=True)
    assert page.status_code == 200 and 'id="outcome">refuse' in page.text and "PE-1" in page.text
    bad = client.post(f"/console/legal/requests/{filed.request.id}/prepare", data={"csrf_token": csrf})
    assert bad.status_code == 409 and "nothing to disclose" in bad.text
    assert "Dry-run a draft" in client.get("/console/legal/policy").text
    dry = client.post("/console/legal/policy/dry-run", data={"csrf_token": csrf, "draft": "version = "})
    assert dry.status_code == 422 and "not valid TOML" in dry.text
    assert client.get("/console/legal/holds").status_code == 200 and client.get("/console/legal/notices").status_code == 200


def test_the_api_refuses_bad_input_with_problem_details(client, staff, scenarios: Scenarios) -> None:
    lena = _staff(client, staff, "lena")
    missing = lena.post("/api/v1/legal/requests/999999/decisions", json={})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    dry = lena.post("/api/v1/legal/policy/dry-run", json={"draft": "tiers = 3"})
    assert dry.status_code == 422
    client.cookies.clear()
    assert client.get("/api/v1/legal/jurisdictions").status_code == 401


def test_a_weaker_tier_is_reviewed_over_http_before_the_package(client, staff, legal, scenarios: Scenarios) -> None:
    """Issue #16 item 7 over the API and the console: Italy (WGI 2023 0.39, tier 2) needs one
    extra review by a third legal officer; the package is refused (409) until it is given."""
    filed = scenarios.file(
        kind=IssuerKind.INVESTIGATING_JUDGE,
        country="IT",
        instrument="eu_epoc",
        categories=["subscriber"],
        account=scenarios.cast.suspect,
        elements={
            "issuing_authority": "GIP Milano",
            "case_reference": "RG-2026-77",
            "offence": "Estorsione (art. 629 c.p.)",
            "grounds": "The account sent the demands.",
        },
    )
    lena, maxp, noor = _staff(client, staff, "lena"), _staff(client, staff, "max"), _staff(client, staff, "noor")
    rid = filed.request.id
    decision = lena.post(f"/api/v1/legal/requests/{rid}/decisions", json={}).json()
    assert decision["extra_reviews"] == 1
    assert lena.post(f"/api/v1/legal/decisions/{decision['id']}/adopt").status_code == 200
    disclosure = lena.post(f"/api/v1/legal/requests/{rid}/disclosures", json={"note": "as decided"}).json()
    assert maxp.post(f"/api/v1/legal/disclosures/{disclosure['id']}/approve", json={}).json()["state"] == "approved"
    blocked = lena.post(f"/api/v1/legal/disclosures/{disclosure['id']}/package")
    assert blocked.status_code == 409 and "extra review" in blocked.json()["detail"]
    again = maxp.post(f"/api/v1/legal/disclosures/{disclosure['id']}/review", json={"note": "necessity weighed"})
    assert again.status_code == 403  # the approver is not the third pair of eyes
    page = noor.get(f"/console/legal/requests/{rid}")
    assert "Extra reviews: 0 of 1 given" in page.text and "Give an extra review" in page.text
    reviewed = noor.post(
        f"/console/legal/requests/{rid}/review",
        data={"csrf_token": noor.headers["X-CSRF-Token"], "target": disclosure["id"], "note": "necessity and proportionality"},
        follow_redirects=True,
    )
    assert reviewed.status_code == 200 and "Extra reviews: 1 of 1 given" in reviewed.text
    assert lena.post(f"/api/v1/legal/disclosures/{disclosure['id']}/package").status_code == 201
