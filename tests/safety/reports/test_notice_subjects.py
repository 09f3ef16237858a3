"""A member of the public names what they report as they see it: a username or @handle, or a
link to the message, account or chat (the demo messenger's and Matrix's link shapes). The
notice resolves it to the platform's subject, or refuses it at the field. And the receipt's
reply form: more information while the case is open, a complaint once it is decided."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.safety.reports.test_notices import notice
from tests.safety.review.factories import reviewer
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.platform.handles import parse_reference
from trustdesk.safety.reports import service as reports
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review import decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.decisions import Plan
from trustdesk.safety.review.models import Case


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://matrix.to/#/@alice:example.org", ("account", "@alice:example.org")),
        ("https://matrix.to/#/!room:example.org/$ev3nt?via=example.org", ("message", "$ev3nt")),
        ("https://matrix.to/#/%23general:example.org/%24ev3nt", ("message", "$ev3nt")),
        ("https://matrix.to/#/#general:example.org", ("alias", "#general:example.org")),
        ("https://app.element.io/#/room/!room:example.org/$ev3nt", ("message", "$ev3nt")),
        ("https://app.element.io/#/user/@bob:example.org", ("account", "@bob:example.org")),
        ("https://chat.example/@lena_berlin", ("account", "lena_berlin")),
        ("https://chat.example/u/u1012/", ("account", "u1012")),
        ("https://chat.example/m/m44?from=share", ("message", "m44")),
        ("https://chat.example/c/c3", ("chat", "c3")),
        ("https://chat.example/about", None),
    ],
)
def test_link_shapes_name_their_subject(link, expected) -> None:
    assert parse_reference(link) == expected


@pytest.mark.parametrize("given", ["lena_berlin", "@Lena_Berlin", " @@lena_berlin ", "https://chat.example/@lena_berlin"])
def test_an_account_is_reported_by_its_username_handle_or_link(session, clock, platform, cast, given) -> None:
    made = notice(session, clock, platform, cast, subject_kind="account", subject_id=given, reason="harassment")
    assert (made.subject_kind, made.subject_id) == ("account", cast.accounts["lena"])
    assert session.get(Case, made.case_id).subject_id == cast.accounts["lena"]


def test_a_message_link_says_its_own_kind_and_is_kept_as_the_location(session, clock, platform, cast) -> None:
    link = f"https://chat.example/m/{cast.messages['drug_ad']}"
    made = notice(session, clock, platform, cast, subject_kind="account", subject_id=link)
    assert (made.subject_kind, made.subject_id, made.location) == ("message", cast.messages["drug_ad"], link)


@pytest.mark.parametrize(
    ("kind", "given", "words"),
    [
        ("account", "@nobody_here", "found no account"),
        ("account", "https://chat.example/about", "cannot tell what this link"),
        ("account", "https://matrix.to/#/#general:example.org", "names a room"),
        ("message", "@lena_berlin", "is an account"),
        ("message", "https://chat.example/m/m999999", "no message"),
    ],
)
def test_what_cannot_be_resolved_is_refused_at_the_field(session, clock, platform, cast, kind, given, words) -> None:
    with pytest.raises((InvalidInput, NotFound)) as raised:
        notice(session, clock, platform, cast, subject_kind=kind, subject_id=given)
    assert raised.value.extensions.get("field") == "subject_id" and words in raised.value.detail
    assert session.scalar(select(func.count()).select_from(Notice)) == 0


def test_a_reply_before_the_decision_goes_into_the_case_history(session, clock, platform, cast) -> None:
    made = notice(session, clock, platform, cast)
    case = reports.reply_to_notice(session, clock=clock, token=made.token, text="He also posts in the school group.")
    assert case.id == made.case_id
    [reply] = reports.replies_to(session, notice=made)
    assert reply.detail["reason"] == "He also posts in the school group." and reply.detail["complaint"] is False
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "review.case.notifier_reply")).all()
    assert len(audited) == 1 and audited[0].object_id == str(case.id)
    with pytest.raises(InvalidInput) as raised:
        reports.reply_to_notice(session, clock=clock, token=made.token, text="  ")
    assert raised.value.extensions["field"] == "text"
    with pytest.raises(NotFound):
        reports.reply_to_notice(session, clock=clock, token="nope", text="hello")


def test_a_reply_after_the_decision_is_a_complaint_decided_anew(session, clock, platform, cast) -> None:
    rita = reviewer(session, clock, "rita", "illegal_goods")
    made = notice(session, clock, platform, cast)

    def decide(case_id: int, reason: str) -> None:
        review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case_id)
        decisions.decide(
            session,
            principal=rita.principal,
            actor=rita.actor,
            clock=clock,
            platform=platform,
            case_id=case_id,
            plan=Plan(outcome="no_action", reason=reason),
        )

    decide(made.case_id, "Not illegal.")
    assert made.outcome == "no_action" and "reply form on this page" in made.outcome_text
    again = reports.reply_to_notice(session, clock=clock, token=made.token, text="It is an offer of cocaine.")
    assert again.id != made.case_id and again.state == "open" and again.queue == "illegal_goods"
    assert (again.subject_kind, again.subject_id) == ("message", cast.messages["drug_ad"])
    assert [e.kind for e in again.events] == ["open", "notifier_reply"]
    [reply] = reports.replies_to(session, notice=made)
    assert reply.detail["complaint"] is True and reply.detail["new_case_id"] == again.id
    decide(again.id, "Still not illegal after a second look.")
    assert made.outcome_text.startswith("We looked again. ")


def test_an_over_long_id_is_refused_at_the_field(session, clock, platform, cast) -> None:
    with pytest.raises(InvalidInput) as raised:
        notice(session, clock, platform, cast, subject_kind="media", subject_id="x" * 129)
    assert raised.value.extensions["field"] == "subject_id"


def test_the_api_takes_a_link_and_a_handle(client, cast) -> None:
    body = {
        "reason": "drugs_weapons",
        "explanation": "Sells drugs.",
        "good_faith": True,
        "notifier_name": "Tom",
        "notifier_email": "tom@example.de",
    }
    link = f"https://chat.example/m/{cast.messages['drug_ad']}"
    by_link = client.post("/api/v1/notices", json={**body, "subject_kind": "account", "subject_id": link})
    assert by_link.status_code == 201, by_link.text
    assert (by_link.json()["subject_kind"], by_link.json()["subject_id"]) == ("message", cast.messages["drug_ad"])
    by_handle = client.post("/api/v1/notices", json={**body, "subject_kind": "account", "subject_id": "@Lena_Berlin"})
    assert by_handle.status_code == 201 and by_handle.json()["subject_id"] == cast.accounts["lena"]
    unknown = client.post("/api/v1/notices", json={**body, "subject_kind": "account", "subject_id": "@nobody_here"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "subject_id"
