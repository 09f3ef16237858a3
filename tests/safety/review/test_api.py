"""The review, notice and appeal API end to end over HTTP: problem details for bad input,
queue scoping (404 outside one's queues), and notice -> decision -> statement -> appeal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.port import MessageState
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.safety.review import service as review


@pytest.fixture
def reviewers(db, clock, staff, client):  # type: ignore[no-untyped-def]
    rita, ravi = staff.create(Role.REVIEWER, username="rita"), staff.create(Role.REVIEWER, username="ravi")
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="illegal_goods", username="rita")
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="general", username="ravi")
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="appeals", username="ravi")
    return rita, ravi


NOTICE = {
    "reason": "drugs_weapons",
    "subject_kind": "message",
    "explanation": "Sells drugs.",
    "good_faith": True,
    "notifier_name": "Tom",
    "notifier_email": "tom@example.de",
}


def test_a_notice_is_refused_with_problem_details_and_nothing_is_stored(client, cast) -> None:
    response = client.post("/api/v1/notices", json={**NOTICE, "subject_id": cast.messages["drug_ad"], "good_faith": False})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "good_faith" and "good faith" in response.json()["detail"]
    missing = client.post("/api/v1/notices", json={"reason": "spam"})
    assert missing.status_code == 422 and missing.json()["errors"]
    assert client.get("/api/v1/review/cases").status_code == 401


def test_notice_to_decision_to_appeal_over_the_api(client, staff, reviewers, platform, cast) -> None:
    rita, ravi = reviewers
    message_id = cast.messages["drug_ad"]
    receipt = client.post("/api/v1/notices", json={**NOTICE, "subject_id": message_id})
    assert receipt.status_code == 201, receipt.text
    token = receipt.json()["token"]
    assert client.get(f"/api/v1/notices/{token}").json()["outcome"] is None

    csrf = staff.sign_in(client, ravi)
    assert client.get("/api/v1/review/cases", headers={"X-CSRF-Token": csrf}).json() == []
    client.cookies.clear()
    csrf = staff.sign_in(client, rita)
    [case] = client.get("/api/v1/review/cases").json()
    case_id = case["id"]
    assert client.post(f"/api/v1/review/cases/{case_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    bad = client.post(
        f"/api/v1/review/cases/{case_id}/decision",
        headers={"X-CSRF-Token": csrf},
        json={"outcome": "action", "action": "remove_message", "policy": "nope", "reason": "Drugs."},
    )
    assert bad.status_code == 422 and platform.get_message(message_id).state is MessageState.VISIBLE
    decided = client.post(
        f"/api/v1/review/cases/{case_id}/decision",
        headers={"X-CSRF-Token": csrf},
        json={
            "outcome": "action",
            "action": "remove_message",
            "policy": "illegal_goods",
            "reason": "Drugs for sale.",
            "legal_ground": "BtMG § 29",
        },
    )
    assert decided.status_code == 201, decided.text
    assert platform.get_message(message_id).state is MessageState.REMOVED
    assert client.get(f"/api/v1/notices/{token}").json()["outcome"] == "action"
    record = client.get(f"/api/v1/enforcement/accounts/{cast.accounts['dealer']}", params={"purpose": f"case:{case_id}"}).json()
    assert record["active_points"] == 3 and record["actions"][0]["platform_ok"]

    client.cookies.clear()
    csrf = staff.sign_in(client, ravi)
    assert client.get(f"/api/v1/review/cases/{case_id}").status_code == 404  # not in ravi's queues
    assert client.post(f"/api/v1/review/cases/{case_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 404
    with client.app.state.container.db.transaction() as s:
        sor_token = s.scalars(
            select(StatementOfReasons.token).where(StatementOfReasons.action_id == decided.json()["action_id"])
        ).one()
    statement = client.get(f"/api/v1/statements/{sor_token}").json()
    assert statement["language"] == "de" and any("entfernt" in text for _, text in statement["sections"])
    appeal = client.post("/api/v1/appeals", json={"token": sor_token, "text": "I was warning the neighbours."})
    assert appeal.status_code == 201
    upheld = client.post(
        f"/api/v1/review/appeals/{appeal.json()['id']}/decision",
        headers={"X-CSRF-Token": csrf},
        json={"outcome": "reversed", "reason": "It was a warning."},
    )
    assert upheld.status_code == 200, upheld.text
    assert platform.get_message(message_id).state is MessageState.VISIBLE
    assert "Correction" in [h for h, _ in client.get(f"/api/v1/statements/{sor_token}?lang=en").json()["sections"]]
