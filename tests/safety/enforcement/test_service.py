"""take_action / reverse_action on the demo platform: what the platform, the user, the DSA
database and the account's record end up with."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.legal.conftest import staff_principal
from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.port import AccountState, MessageState
from trustdesk.safety.enforcement import cybertipline, strikes
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons, Strike
from trustdesk.safety.enforcement.statements import render


def act(session, clock, platform, **overrides):  # type: ignore[no-untyped-def]
    args = dict(
        subject_kind="message",
        action="remove_message",
        policy="illegal_goods",
        automated=False,
        source="notice",
        reason="Advertises drugs for sale in a neighbourhood group.",
    )
    return enforcement.take_action(session, actor=TEST_ACTOR, clock=clock, platform=platform, **{**args, **overrides})


def test_removal_acts_on_the_platform_tells_the_user_and_counts_a_strike(session, clock, platform, cast) -> None:
    message_id = cast.messages["drug_ad"]
    action = act(session, clock, platform, subject_id=message_id, legal_ground="BtMG § 29")
    assert platform.get_message(message_id).state is MessageState.REMOVED
    assert action.platform_ok and action.platform_ref and action.account_id == cast.accounts["dealer"]
    statement = action.statement
    assert validate_statement(statement.payload) == {}
    assert statement.payload["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement.payload["source_type"] == "SOURCE_ARTICLE_16"
    assert statement.appeal_until >= statement.told_at + timedelta(days=182)
    assert statement.language == "de"  # the dealer's account is in Germany
    text = " ".join(t for _, t in render(statement.facts, language=statement.language, appeal_url="https://x/appeal/t"))
    assert "entfernt" in text and "BtMG § 29" in text and "https://x/appeal/t" in text
    assert strikes.active_points(session, account_id=action.account_id, now=clock.now()) == 3
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "enforcement.act")) >= 1


def test_the_statement_renders_in_english_and_french(session, clock, platform, cast) -> None:
    action = act(session, clock, platform, subject_id=cast.messages["drug_ad"])
    english = dict(render(action.statement.facts, language="en", appeal_url="u"))
    french = dict(render(action.statement.facts, language="fr", appeal_url="u"))
    assert english["What we did"].startswith("We removed your message.")
    assert "Automated means" in english and "Vos recours" in french
    assert "Correction" not in english


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"policy": "no_such_policy"}, "policy"),
        ({"action": "suspend_account"}, "action"),
        ({"action": "explode"}, "action"),
        ({"source": "rumour"}, "source"),
        ({"reason": "  "}, "reason"),
        ({"territorial_scope": ["DE", "US"]}, "territorial_scope"),
        ({"until": "past"}, "until"),
    ],
)
def test_bad_input_changes_nothing(session, clock, platform, cast, overrides, field) -> None:
    message_id = cast.messages["drug_ad"]
    if overrides.get("until") == "past":
        overrides = {"until": clock.now() - timedelta(days=1)}
    with pytest.raises(InvalidInput) as raised:
        act(session, clock, platform, subject_id=message_id, **overrides)
    assert raised.value.extensions.get("field") == field
    assert platform.get_message(message_id).state is MessageState.VISIBLE
    assert session.scalar(select(func.count()).select_from(EnforcementAction)) == 0


def test_an_unknown_subject_is_not_found(session, clock, platform, cast) -> None:
    with pytest.raises(NotFound):
        act(session, clock, platform, subject_id="m999999")


def test_geo_restriction_is_refused_when_the_platform_cannot_do_it(session, clock, platform, cast, monkeypatch) -> None:
    monkeypatch.setattr(platform, "capabilities", frozenset())  # as the Matrix adapter declares
    with pytest.raises(InvalidInput, match="cannot geo restrict"):
        act(session, clock, platform, subject_id=cast.messages["drug_ad"], action="geo_restrict", territorial_scope=["DE"])


def test_strikes_past_a_threshold_restrict_the_account(session, clock, platform, cast) -> None:
    act(session, clock, platform, subject_id=cast.messages["drug_ad"])
    dealer = cast.accounts["dealer"]
    assert platform.get_account(dealer).state is AccountState.RESTRICTED  # 3 points: restrict for 7 days
    follow = session.scalars(select(EnforcementAction).where(EnforcementAction.rule_ref == "strike-threshold:3")).one()
    assert follow.automated and follow.action == "restrict_account" and follow.until is not None
    assert follow.statement.payload["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert follow.statement.payload["source_type"] == "SOURCE_VOLUNTARY"
    assert validate_statement(follow.statement.payload) == {}


def test_strikes_expire(session, clock, platform, cast) -> None:
    action = act(session, clock, platform, subject_id=cast.messages["drug_ad"], policy="spam")
    assert strikes.active_points(session, account_id=action.account_id, now=clock.now()) == 1
    assert strikes.active_points(session, account_id=action.account_id, now=clock.now() + timedelta(days=31)) == 0


def test_reversal_restores_voids_the_strike_corrects_the_statement_and_undoes_follow_ups(session, clock, platform, cast) -> None:
    message_id, dealer = cast.messages["drug_ad"], cast.accounts["dealer"]
    action = act(session, clock, platform, subject_id=message_id)
    clock.advance(days=2)
    enforcement.reverse_action(
        session, actor=TEST_ACTOR, clock=clock, platform=platform, action_id=action.id, reason="Appeal upheld: it was a joke."
    )
    assert platform.get_message(message_id).state is MessageState.VISIBLE
    assert platform.get_account(dealer).state is AccountState.ACTIVE
    assert action.reversal_ok and action.statement.correction.startswith("On 2026-03-30 this decision was reversed")
    assert "Correction" in dict(
        render(action.statement.facts, language="en", appeal_url="u", correction=action.statement.correction)
    )
    assert strikes.active_points(session, account_id=dealer, now=clock.now()) == 0
    assert session.scalars(select(Strike)).one().voided_at is not None
    with pytest.raises(Conflict):
        enforcement.reverse_action(session, actor=TEST_ACTOR, clock=clock, platform=platform, action_id=action.id, reason="again")


def test_a_platform_refusal_is_recorded_without_statement_or_strike(session, clock, platform, cast) -> None:
    herald = cast.accounts["herald"]
    platform.suspend_account(herald, reason="set up")
    action = act(
        session, clock, platform, subject_kind="account", subject_id=herald, action="restrict_account", policy="terrorism"
    )
    assert not action.platform_ok and "suspended" in action.platform_detail
    assert session.scalar(select(func.count()).select_from(StatementOfReasons)) == 0
    assert session.scalar(select(func.count()).select_from(Strike)) == 0


FILER = staff_principal(Role.LEGAL_OFFICER)  # the legal team files with NCMEC


def test_child_exploitation_makes_a_cybertipline_draft_with_preserved_media(session, clock, platform, cast) -> None:
    media_message = next(key for key in ("drug_price_list",) if key in cast.messages)
    action = act(
        session,
        clock,
        platform,
        subject_id=cast.messages[media_message],
        policy="child_sexual_exploitation",
        legal_ground="Directive 2011/93/EU Art. 5",
    )
    [report] = cybertipline.filing_queue(session)
    assert report.account_id == action.account_id
    assert report.fields["reported_person"]["screen_name"] == "greenleaf_delivery"
    assert report.fields["incidents"][0]["time_zone"] == "UTC" and report.fields["incidents"][0]["communication"]
    assert report.media and report.media[0].preserve_until == clock.now() + timedelta(days=365)
    assert len(report.media[0].data) > 0
    with pytest.raises(Forbidden, match="cybertipline:file"):
        cybertipline.mark_filed(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(Role.REVIEWER),
            report_id=report.id,
            ncmec_report_id="1",
        )
    with pytest.raises(InvalidInput):
        cybertipline.mark_filed(
            session, actor=TEST_ACTOR, clock=clock, principal=FILER, report_id=report.id, ncmec_report_id="abc"
        )
    cybertipline.mark_filed(
        session, actor=TEST_ACTOR, clock=clock, principal=FILER, report_id=report.id, ncmec_report_id="123456789"
    )
    assert cybertipline.filing_queue(session) == []
