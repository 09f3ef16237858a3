"""Language (issue #16 item 3): an order in a language the provider does not accept (the
discovery document publishes them) is flagged at intake and cannot be decided until its core
elements come in an accepted language (DSA Arts. 9(2)(c), 10(2)(c); Reg. 2023/1543 Arts.
4-5 and the certificates' language rule). The order's language is recorded on every route."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import Desk
from tests.legal.disclosure.factories import Cast, Scenarios
from tests.legal.grounds.authority import agency_token, portal_sign_in
from trustdesk.core.errors import InvalidInput
from trustdesk.legal import service as legal_requests
from trustdesk.legal.discovery import accepted_languages
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import LawfulRequest

POLISH = {
    "issuing_authority": "Prokuratura Okręgowa w Warszawie",
    "case_reference": "PO II Ds 12/26",
    "offence": "Oszustwo (art. 286 § 1 kodeksu karnego)",
    "grounds": "Dane są niezbędne do ustalenia sprawcy.",
}
TRANSLATED = {
    "issuing_authority": "Regional Prosecutor's Office, Warsaw",
    "case_reference": "PO II Ds 12/26",
    "offence": "Fraud (Art. 286 § 1 of the Criminal Code)",
    "grounds": "The data are needed to identify the offender.",
}


def _polish(scenarios: Scenarios, cast: Cast, **extra: object):
    return scenarios.file(
        kind=IssuerKind.PROSECUTOR,
        country="PL",
        instrument="eu_epoc",
        categories=["subscriber"],
        account=cast.suspect,
        elements=POLISH,
        language="pl",
        **extra,
    )


def _language_item(request: LawfulRequest) -> dict:
    return next(i for i in request.checklist if i["check"] == "language")


def _translate(db, clock, filed, *, language: str = "en", elements: dict[str, str] = TRANSLATED) -> LawfulRequest:
    with db.transaction() as session:
        return legal_requests.supply_elements(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=filed.principal,
            request_id=filed.request.id,
            elements=elements,
            language=language,
        )


def test_the_discovery_document_and_the_check_agree_on_the_accepted_languages(client) -> None:
    assert set(client.get("/.well-known/lawful-requests.json").json()["accepted_languages"]) == accepted_languages()


def test_an_order_in_polish_is_flagged_and_not_decided(db, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    filed = _polish(scenarios, cast)
    assert filed.request.language == "pl" and _language_item(filed.request)["verdict"] == "fail"
    decision = desk.decide(filed.request.id)
    assert (decision.outcome, decision.refusal_reason) == ("clarify", "incomplete")
    assert [r["rule_id"] for r in decision.reasons] == ["LANG-1"]


def test_once_the_core_elements_come_in_english_the_order_is_decided(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = _polish(scenarios, cast)
    request = _translate(db, clock, filed)
    assert request.translated_to == "en" and request.language == "pl"
    assert _language_item(request)["verdict"] == "pass"
    assert desk.decide(filed.request.id).outcome == "produce"


def test_a_translation_gives_every_core_element_in_an_accepted_language(db, clock, scenarios: Scenarios, cast: Cast) -> None:
    filed = _polish(scenarios, cast)
    with pytest.raises(InvalidInput, match="a language the provider accepts"):
        _translate(db, clock, filed, language="es")
    with pytest.raises(InvalidInput, match="missing: grounds"):
        _translate(db, clock, filed, elements={k: v for k, v in TRANSLATED.items() if k != "grounds"})


def test_a_removal_order_in_a_language_not_accepted_waits_for_its_translation(
    db, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.file(
        kind=IssuerKind.POLICE,
        country="IT",
        instrument="tco_removal",
        categories=[],
        account=cast.suspect,
        language="it",
        elements={"issuing_authority": "Polizia Postale", "reasons": "Propaganda terroristica", "redress": "TAR Lazio"},
    )
    assert desk.decide(filed.request.id).outcome == "clarify"


def test_an_order_in_an_accepted_language_passes(scenarios: Scenarios, cast: Cast) -> None:
    filed = scenarios.french_judge_content_order()
    assert _language_item(filed.request)["verdict"] == "pass"


def test_the_api_records_the_language_and_takes_the_translation(client, db, clock, legal, cast: Cast) -> None:
    agency = legal.agency(IssuerKind.PROSECUTOR, country="PL")
    headers = agency_token(db, clock, agency)
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": POLISH,
        "targets": [{"value": cast.suspect}],
        "language": "pl",
    }
    created = client.post("/api/v1/lawful-requests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    request_id = created.json()["request"]["id"]
    detail = client.get(f"/api/v1/lawful-requests/{request_id}", headers=headers).json()
    assert detail["language"] == "pl" and any(i["check"] == "language" and i["verdict"] == "fail" for i in detail["checklist"])
    answered = client.post(
        f"/api/v1/lawful-requests/{request_id}/elements", json={"elements": TRANSLATED, "language": "en"}, headers=headers
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["translated_to"] == "en"


def test_the_api_refuses_a_language_that_is_not_a_code_and_creates_nothing(client, db, clock, legal, cast: Cast) -> None:
    agency = legal.agency(IssuerKind.PROSECUTOR, country="PL")
    headers = agency_token(db, clock, agency)
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": POLISH,
        "targets": [{"value": cast.suspect}],
        "language": "Polish!",
    }
    response = client.post("/api/v1/lawful-requests", json=body, headers=headers)
    assert response.status_code == 422 and "ISO 639" in response.text
    with db.transaction() as session:
        assert session.scalar(select(func.count(LawfulRequest.id))) == 0


def test_the_portal_shows_the_language_needed_and_takes_the_translation(
    client, db, legal, scenarios: Scenarios, cast: Cast
) -> None:
    filed = _polish(scenarios, cast)
    csrf = portal_sign_in(client, legal, filed.officer)
    page = client.get(f"/portal/requests/{filed.request.id}")
    assert 'id="language-needed"' in page.text and 'name="translation_language"' in page.text
    form = {"csrf_token": csrf, "translation_language": "en", **{f"element.{k}": v for k, v in TRANSLATED.items()}}
    response = client.post(f"/portal/requests/{filed.request.id}/elements", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert 'id="language-needed"' not in client.get(f"/portal/requests/{filed.request.id}").text
