"""Blindness and who may do what, over HTTP: the re-reviewer's API answers and pages carry
nothing of the first decision, its decider or the sample's reason; nobody re-reviews their
own decision; a senior who took part in neither label settles a disagreement; each route
asks for its permission (tested per role)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.safety.quality.factories import decide, manager, rule
from tests.safety.review.factories import TEST_ACTOR, reviewer
from trustdesk.core.identity.permissions import Role
from trustdesk.safety.quality import sampling
from trustdesk.safety.quality.labels import BlindItem
from trustdesk.safety.quality.models import QualitySample
from trustdesk.safety.quality.schemas import BlindItemRead
from trustdesk.safety.review import service as review

BLIND_FIELDS = {"sample_id", "subject_kind", "subject_id", "queue", "sampled_at", "content"}
RULE_NAME = "Secret sampling rule name"
REASON = "Breaks the policy."  # the decision's reason (tests/safety/quality/factories.py)


ROLES = {
    "rita": Role.REVIEWER,
    "ravi": Role.REVIEWER,
    "sena": Role.SENIOR_REVIEWER,
    "sol": Role.SENIOR_REVIEWER,
    "ada": Role.ADMIN,
    "tom": Role.TRIAGE,
    "aude": Role.AUDITOR,
}


class People(dict):
    """Staff accounts made when a test first signs one in (each costs a password hash)."""

    def __init__(self, staff) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.staff = staff

    def __missing__(self, name: str):  # type: ignore[no-untyped-def]
        self[name] = self.staff.create(ROLES[name], username=name)
        return self[name]


@pytest.fixture
def people(staff) -> People:  # type: ignore[no-untyped-def]
    return People(staff)


@pytest.fixture
def sample_id(db, clock, container, cast, people) -> int:  # type: ignore[no-untyped-def]
    """Rita's decision (a scam, removed), drawn for a re-review."""
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        rule(s, clock, name=RULE_NAME)
        rita = reviewer(s, clock, "rita", "illegal_goods")
        decide(s, clock, container.platform, rita, cast.messages["drug_ad"], policy="scams")
        clock.advance(minutes=1)
        boss = manager()
        drawn = sampling.draw(s, principal=boss.principal, actor=boss.actor, clock=clock)
        return next(d.id for d in drawn if d.item_kind == "decision")


def _as(client, staff, people, name):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    return {"X-CSRF-Token": staff.sign_in(client, people[name])}


def test_the_blind_shapes_have_no_field_for_the_first_decision() -> None:
    assert {f.name for f in dataclasses.fields(BlindItem)} == BLIND_FIELDS
    assert set(BlindItemRead.model_fields) == BLIND_FIELDS
    assert BlindItemRead.model_config.get("extra") == "forbid"


def test_what_the_re_reviewer_sees_tells_nothing_of_the_first_decision(client, staff, people, sample_id, cast) -> None:
    headers = _as(client, staff, people, "ravi")
    listed = client.get("/api/v1/quality/reviews", headers=headers)
    one = client.get(f"/api/v1/quality/reviews/{sample_id}", headers=headers)
    page = client.get(f"/console/quality/reviews/{sample_id}")
    queue_page = client.get("/console/quality/reviews")
    assert listed.status_code == one.status_code == page.status_code == queue_page.status_code == 200
    assert set(one.json()) == BLIND_FIELDS and one.json()["subject_id"] == cast.messages["drug_ad"]
    assert sample_id in [i["sample_id"] for i in listed.json()]
    for text in (listed.text, one.text, page.text, queue_page.text):
        for secret in ("rita", REASON, RULE_NAME, "minimum", "remove_message"):
            assert secret not in text, secret
    assert "scams" not in listed.text + one.text + queue_page.text
    assert "selected" not in page.text and "checked" not in page.text  # every policy offered alike, nothing chosen
    assert 'name="outcome"' in page.text and "Fresh stock just arrived" in page.text  # the content is there to judge


def test_a_reviewer_cannot_re_review_their_own_decision(client, staff, people, sample_id, db) -> None:
    headers = _as(client, staff, people, "rita")
    assert client.get("/api/v1/quality/reviews", headers=headers).json() == []
    assert client.get(f"/api/v1/quality/reviews/{sample_id}", headers=headers).status_code == 403
    refused = client.post(
        f"/api/v1/quality/reviews/{sample_id}/label", json={"outcome": "action", "policy": "scams"}, headers=headers
    )
    assert refused.status_code == 403 and "someone else" in refused.json()["detail"]
    page = client.post(f"/console/quality/reviews/{sample_id}", data={"outcome": "action", "policy": "scams", **_form(headers)})
    assert page.status_code == 403
    with db.transaction() as s:
        assert s.get(QualitySample, sample_id).state == "blind"


def _form(headers: dict[str, str]) -> dict[str, str]:
    return {"csrf_token": headers["X-CSRF-Token"]}


def test_disagreement_goes_to_a_senior_who_took_no_part(client, staff, people, sample_id, db) -> None:
    headers = _as(client, staff, people, "sena")  # a senior may re-review blind too
    bad = client.post(f"/api/v1/quality/reviews/{sample_id}/label", json={"outcome": "maybe"}, headers=headers)
    assert bad.status_code == 422
    receipt = client.post(f"/api/v1/quality/reviews/{sample_id}/label", json={"outcome": "no_action"}, headers=headers)
    assert receipt.status_code == 201 and receipt.json() == {"sample_id": sample_id, "stored": True}  # not whether it agreed
    assert client.get("/api/v1/quality/disagreements", headers=headers).json() == []  # her own re-review
    final = {"outcome": "action", "policy": "scams", "note": "An offer to sell."}
    assert client.post(f"/api/v1/quality/disagreements/{sample_id}/label", json=final, headers=headers).status_code == 403

    headers = _as(client, staff, people, "ravi")
    assert client.get("/api/v1/quality/disagreements", headers=headers).status_code == 403
    assert client.post(f"/api/v1/quality/disagreements/{sample_id}/label", json=final, headers=headers).status_code == 403

    headers = _as(client, staff, people, "sol")
    [waiting] = client.get("/api/v1/quality/disagreements", headers=headers).json()
    assert (waiting["first_outcome"], waiting["first_policy"], waiting["blind_outcome"]) == ("action", "scams", "no_action")
    assert "sena" not in str(waiting) and "rita" not in str(waiting)
    page = client.get(f"/console/quality/disagreements/{sample_id}")
    assert page.status_code == 200 and "rita" not in page.text and "sena" not in page.text
    assert (
        client.post(f"/api/v1/quality/disagreements/{sample_id}/label", json={**final, "note": ""}, headers=headers).status_code
        == 422
    )
    done = client.post(f"/console/quality/disagreements/{sample_id}", data={**final, **_form(headers)}, follow_redirects=False)
    assert done.status_code == 303
    with db.transaction() as s:
        sample = s.get(QualitySample, sample_id)
        assert (sample.state, sample.first_correct, sample.senior_by, sample.blind_by) == (
            "labelled",
            True,
            "staff:sol",
            "staff:sena",
        )


@pytest.mark.parametrize(
    ("who", "metrics", "review", "rules"),
    [
        ("tom", 403, 403, 403),  # triage
        ("aude", 200, 403, 403),  # auditor: reads the figures only
        ("ravi", 200, 200, 403),  # reviewer
        ("sena", 200, 200, 403),  # senior reviewer
        ("ada", 200, 403, 201),  # admin: manages the rules, labels nothing
    ],
)
def test_each_route_asks_for_its_permission(client, staff, people, sample_id, who, metrics, review, rules) -> None:
    headers = _as(client, staff, people, who)
    assert client.get("/api/v1/quality/metrics", headers=headers).status_code == metrics
    assert client.get("/console/quality").status_code == metrics
    assert client.get("/api/v1/quality/reviews", headers=headers).status_code == review
    made = client.post("/api/v1/quality/rules", json={"name": "weekly", "share": 0.05, "minimum": 10}, headers=headers)
    assert made.status_code == rules
    assert client.post("/api/v1/quality/draw", headers=headers).status_code == (200 if rules == 201 else 403)


def test_a_rule_made_in_the_console_and_a_bad_one_refused(client, staff, people, sample_id) -> None:
    headers = _as(client, staff, people, "ada")
    form = {"name": "Trusted flaggers", "share": "10", "minimum": "5", "period": "month", "source": "trusted_flagger"}
    assert client.post("/console/quality/rules", data={**form, **_form(headers)}, follow_redirects=False).status_code == 303
    bad = client.post("/console/quality/rules", data={**form, "share": "150", **_form(headers)})
    assert bad.status_code == 422 and "fraction" in bad.text
    [made] = [r for r in client.get("/api/v1/quality/rules", headers=headers).json() if r["name"] == "Trusted flaggers"]
    assert (made["share"], made["minimum"], made["period"], made["source"]) == (0.1, 5, "month", "trusted_flagger")
