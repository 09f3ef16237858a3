"""Who looked (issue #21, core/access): an account's data is shown only for a purpose that
concerns it (a case in the viewer's queues, an appeal, a lawful request), each view of a
person's data is logged (who, when, why, what), and auditors read the log per person. Per
role, over the API and the console."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.access.models import AccessEntry
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.safety.review import service as review


@pytest.fixture
def cases(db, clock, cast):  # type: ignore[no-untyped-def]
    """A case about the dealer's message in rita's queue, one about the extortionist's, and
    one about the dealer in a queue rita is not in."""
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="illegal_goods", username="rita")

        def case(key: str, queue: str) -> int:
            return review.open_case(
                s,
                actor=TEST_ACTOR,
                clock=clock,
                subject_kind="message",
                subject_id=cast.messages[key],
                queue=queue,
                priority=30,
                source="notice",
                reason="reported",
            ).id

        return {
            "dealer": case("drug_ad", "illegal_goods"),
            "other": case("extortion_threat", "illegal_goods"),
            "elsewhere": case("drug_price_list", "general"),
        }


def _log(db, subject: str) -> list[AccessEntry]:
    with db.transaction() as s:
        return list(s.scalars(select(AccessEntry).where(AccessEntry.subject_id == subject).order_by(AccessEntry.id)))


def test_an_account_is_shown_only_for_a_purpose_that_concerns_it(client, staff, db, cast, cases) -> None:
    dealer = cast.accounts["dealer"]
    staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    url = f"/api/v1/enforcement/accounts/{dealer}"
    missing = client.get(url)
    assert missing.status_code == 422 and "A purpose is required" in missing.json()["detail"]
    assert client.get(url, params={"purpose": "curiosity"}).status_code == 422
    assert client.get(url, params={"purpose": f"case:{cases['other']}"}).status_code == 403, "a case about someone else"
    assert client.get(url, params={"purpose": f"case:{cases['elsewhere']}"}).status_code == 403, "a case outside her queues"
    assert client.get(url, params={"purpose": "case:999999"}).status_code == 403
    assert _log(db, dealer) == [], "nothing shown, nothing logged"
    shown = client.get(url, params={"purpose": f"case:{cases['dealer']}", "why": "checking earlier strikes"})
    assert shown.status_code == 200 and shown.json()["account_id"] == dealer
    [entry] = _log(db, dealer)
    assert (entry.actor, entry.channel, entry.what, entry.purpose_kind, entry.purpose_ref, entry.reason) == (
        "staff:rita",
        "api",
        "account_record",
        "case",
        str(cases["dealer"]),
        "checking earlier strikes",
    )


def test_the_console_logs_the_case_page_and_the_account_page_it_links_to(client, staff, db, cast, cases) -> None:
    dealer = cast.accounts["dealer"]
    staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    case_page = client.get(f"/console/review/cases/{cases['dealer']}")
    link = f"/console/review/accounts/{dealer}?purpose=case:{cases['dealer']}"
    assert case_page.status_code == 200 and link in case_page.text, "the case page links to the account with its purpose"
    assert client.get(f"/console/review/accounts/{dealer}").status_code == 422
    account = client.get(link)
    assert account.status_code == 200 and f"case:{cases['dealer']}" in account.text
    assert [(e.what, e.channel, e.object_ref) for e in _log(db, dealer)] == [
        ("review_case", "console", f"case:{cases['dealer']}"),
        ("account_page", "console", None),
    ]


@pytest.mark.parametrize(
    ("role", "reads"), [(Role.AUDITOR, True), (Role.ADMIN, True), (Role.REVIEWER, False), (Role.LEGAL_OFFICER, False)]
)
def test_auditors_read_who_looked_per_person(client, staff, db, cast, cases, role, reads) -> None:
    dealer = cast.accounts["dealer"]
    rita = staff.create(Role.REVIEWER, username="rita")
    staff.sign_in(client, rita)
    client.get(f"/api/v1/review/cases/{cases['dealer']}")  # logged against the dealer
    client.cookies.clear()
    staff.sign_in(client, staff.create(role))
    api = client.get("/api/v1/access-log", params={"subject": dealer})
    page = client.get("/console/access-log", params={"subject": dealer})
    assert (api.status_code, page.status_code) == ((200, 200) if reads else (403, 403))
    assert ('href="/console/access-log"' in client.get("/console").text) is reads
    if reads:
        [entry] = api.json()
        assert (entry["actor"], entry["what"], entry["purpose_kind"], entry["subject_id"]) == (
            "staff:rita",
            "review_case",
            "case",
            dealer,
        )
        assert "staff:rita" in page.text and "review_case" in page.text
        assert client.get("/api/v1/access-log").status_code == 422, "one person at a time"


def test_a_service_token_views_through_the_same_check(client, staff, db, cast, cases) -> None:
    dealer = cast.accounts["dealer"]
    token = staff.token(Permission.SAFETY_READ)  # no triage: no case justifies its view
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/enforcement/accounts/{dealer}", headers=headers).status_code == 422
    assert (
        client.get(
            f"/api/v1/enforcement/accounts/{dealer}", headers=headers, params={"purpose": f"case:{cases['dealer']}"}
        ).status_code
        == 403
    )
    assert _log(db, dealer) == []
