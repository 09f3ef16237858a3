"""The authority sees its answer, not our deliberation (issue #16 item 15): the portal and the
API an authority's token reaches show the decision and the reasons meant for the issuer,
never the internal policy reasoning, the rule-of-law tier or the issuing country's score."""

from __future__ import annotations

import json
import re

from tests.legal.disclosure.desk import Desk
from tests.legal.disclosure.factories import Scenarios
from tests.legal.grounds.authority import agency_token, portal_sign_in
from trustdesk.legal.disclosure import packages
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.policy import jurisdictions

INTERNAL = ("WGI", "rule-of-law", "rule of law", "extra review", "proposed")
RULE_ID = re.compile(r"\b(?:PE|DC|JUR|GATE|TIER|CHK|NR|NH|EM|ES|PR|LANG|ACT|UN|FE|DL)-\d+\b")


def _leaks(text: str, country: str) -> list[str]:
    estimate = jurisdictions.load().get(country).estimate
    return [w for w in (*INTERNAL, f"{estimate}") if w in text] + RULE_ID.findall(text)


def _drug_case(scenarios: Scenarios, account: str):
    """A Turkish court's order on drug trafficking: decided in part, with the tier weighed."""
    return scenarios.file(
        kind=IssuerKind.COURT,
        country="TR",
        instrument="national_court_order",
        categories=["subscriber", "content"],
        account=account,
        elements={
            "legal_basis": "Turkish Penal Code Art. 188: drug trafficking",
            "case_reference": "2026/7",
            "issuing_court": "Istanbul 3rd High Criminal Court",
        },
    )


def test_the_staff_decision_keeps_the_deliberation(db, desk: Desk, scenarios: Scenarios, cast) -> None:
    filed = _drug_case(scenarios, cast.suspect)
    decision = desk.decide(filed.request.id)
    tier = [r for r in decision.reasons if r["rule_id"].startswith("TIER-")]
    assert tier and "WGI" in tier[0]["detail"] and not tier[0]["for_issuer"]  # exists, and stays internal


def test_the_portal_shows_the_refusal_and_its_reason_not_the_tier(client, db, legal, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(filed.request.id))
    portal_sign_in(client, legal, filed.officer)
    page = client.get(f"/portal/requests/{filed.request.id}").text
    assert "The order is refused" in page and "freedom of expression" in page
    assert _leaks(page, "TR") == []


def test_the_api_answer_to_the_agency_token_carries_no_internal_field(
    client, db, clock, desk: Desk, scenarios: Scenarios
) -> None:
    filed = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(filed.request.id))
    headers = agency_token(db, clock, filed.agency)
    detail = client.get(f"/api/v1/lawful-requests/{filed.request.id}", headers=headers)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert {"reasons", "grounds", "estimate", "tier", "policy_version"}.isdisjoint(body)
    (refusal,) = [t for t in body["transitions"] if t["to_state"] == "refused"]
    assert refusal["refusal_reason"] == "immunities" and "freedom of expression" in refusal["reason"]
    assert _leaks(json.dumps(body), "TR") == []
    listed = client.get("/api/v1/lawful-requests", headers=headers)
    assert _leaks(listed.text, "TR") == []
    assert client.get(f"/api/v1/legal/requests/{filed.request.id}/decisions", headers=headers).status_code == 403


def test_a_partial_answer_names_the_withheld_categories_without_the_tier(
    client, db, clock, legal, desk: Desk, scenarios: Scenarios, cast
) -> None:
    filed = _drug_case(scenarios, cast.suspect)
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "produce_in_part"
    desk.adopt(decision)
    body = client.get(f"/api/v1/lawful-requests/{filed.request.id}", headers=agency_token(db, clock, filed.agency)).json()
    answer = body["transitions"][-1]["reason"]
    assert "answered in part" in answer and "content" in answer
    assert _leaks(json.dumps(body), "TR") == []
    portal_sign_in(client, legal, filed.officer)
    page = client.get(f"/portal/requests/{filed.request.id}").text
    assert "answered in part" in page and _leaks(page, "TR") == []


def test_the_package_manifest_lists_only_the_reasons_meant_for_the_issuer(db, clock, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    decision = desk.decide(filed.request.id)
    assert "TIER-1" in [r["rule_id"] for r in decision.reasons]
    disclosure = desk.through_approval(filed.request.id)
    clock.advance(days=10, minutes=1)
    _, secret = desk.package(disclosure)
    opened = desk.download(filed.principal, secret)
    manifest = packages.verify(opened.data, public_key_b64=desk.key.public_key_b64).manifest
    assert not [r for r in manifest["decision"]["rules"] if r.startswith("TIER-")]
    # The ids of the reasons meant for the issuer may stay (the policy text is public); the
    # tier and its score may not.
    assert [w for w in _leaks(json.dumps(manifest["decision"]), "FR") if not RULE_ID.fullmatch(w)] == []
