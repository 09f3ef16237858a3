"""Notices (Art. 16 DSA) and trusted flaggers (Art. 22)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.core.identity.permissions import Principal, PrincipalKind
from trustdesk.safety.reports import service as reports
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Case


def notice(session, clock, platform, cast, **overrides):  # type: ignore[no-untyped-def]
    args = dict(
        reason="drugs_weapons",
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        explanation="This account sells drugs in our neighbourhood group.",
        good_faith=True,
        notifier_name="Lena Hoffmann",
        notifier_email="lena@example.de",
        language="de",
    )
    return reports.submit_notice(session, actor=TEST_ACTOR, clock=clock, platform=platform, **{**args, **overrides})


def test_a_notice_opens_a_case_in_its_queue_and_gives_a_receipt(session, clock, platform, cast) -> None:
    made = notice(session, clock, platform, cast)
    assert len(made.token) >= 30 and made.received_at == clock.now()
    case = session.get(Case, made.case_id)
    assert case.queue == "illegal_goods" and case.source == "notice" and case.policy_hint == "illegal_goods"
    assert reports.notice_by_token(session, token=made.token) is made
    with pytest.raises(NotFound):
        reports.notice_by_token(session, token="nope")


def test_notices_about_the_same_item_are_grouped(session, clock, platform, cast) -> None:
    first = notice(session, clock, platform, cast)
    second = notice(session, clock, platform, cast, notifier_name="Tom", notifier_email="tom@example.de")
    assert first.case_id == second.case_id and session.get(Case, first.case_id).reports == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"notifier_name": ""}, "notifier_name"),
        ({"notifier_email": "not-an-address"}, "notifier_email"),
        ({"good_faith": False}, "good_faith"),
        ({"explanation": " "}, "explanation"),
        ({"reason": "annoying"}, "reason"),
        ({"subject_kind": "post"}, "subject_kind"),
        ({"subject_id": "m999999"}, "subject_id"),
        ({"language": "german"}, "language"),
    ],
)
def test_an_incomplete_notice_is_refused_and_stores_nothing(session, clock, platform, cast, overrides, field) -> None:
    with pytest.raises((InvalidInput, NotFound)) as raised:
        notice(session, clock, platform, cast, **overrides)
    assert raised.value.extensions.get("field") == field
    assert session.scalar(select(func.count()).select_from(Notice)) == 0
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_child_sexual_abuse_may_be_reported_anonymously(session, clock, platform, cast) -> None:
    made = notice(session, clock, platform, cast, reason="child_sexual_abuse", notifier_name=None, notifier_email=None)
    assert made.notifier_name is None and session.get(Case, made.case_id).queue == "child_safety"


def test_trusted_flaggers_go_first_within_their_field(session, clock, platform, cast) -> None:
    flagger = reports.register_trusted_flagger(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        organisation="Safer Streets e.V.",
        fields=["drugs_weapons"],
        email="flags@saferstreets.example",
        awarded_by="DSC Germany (BNetzA)",
        token_id=77,
    )
    ordinary = notice(session, clock, platform, cast, subject_id=cast.messages["drug_price_list"])
    trusted = notice(session, clock, platform, cast, flagger=flagger, notifier_name=None, notifier_email=None)
    case = session.get(Case, trusted.case_id)
    assert case.trusted_flagger and case.queue == "trusted_flaggers" and case.source == "trusted_flagger"
    assert case.priority > session.get(Case, ordinary.case_id).priority
    outside = notice(session, clock, platform, cast, reason="spam", subject_id=cast.messages["drug_price_list"], flagger=flagger)
    assert outside.case_id == ordinary.case_id  # outside its field: an ordinary notice, grouped with the other
    principal = Principal(kind=PrincipalKind.TOKEN, id=77, name="saferstreets", permissions=frozenset())
    assert reports.flagger_for(session, principal=principal) is flagger


def test_trusted_flagger_fields_must_be_report_reasons(session, clock) -> None:
    with pytest.raises(InvalidInput):
        reports.register_trusted_flagger(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            organisation="X",
            fields=["everything"],
            email="x@example.org",
            awarded_by="DSC",
        )
