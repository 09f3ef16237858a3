"""Done when a report on the demo platform goes from notice to decision, action, statement,
DSA submission and appeal, end to end: this test walks that road for several kinds of
decision and submits every statement made on the way to the DSA database's test double."""

from __future__ import annotations

from datetime import timedelta

from tests.doubles.dsa_database import dsa_backend
from tests.safety.review.factories import TEST_ACTOR, reviewer
from trustdesk.platform.port import AccountState, MessageState
from trustdesk.safety.enforcement import dsa_submission
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.safety.reports import service as reports
from trustdesk.safety.review import appeals, decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.decisions import Plan


def decide(session, clock, platform, who, case_id, plan):  # type: ignore[no-untyped-def]
    review.claim(session, principal=who.principal, actor=who.actor, clock=clock, case_id=case_id)
    return decisions.decide(
        session, principal=who.principal, actor=who.actor, clock=clock, platform=platform, case_id=case_id, plan=plan
    )


def test_notice_decision_action_statement_submission_and_appeal(session, clock, platform, cast) -> None:
    rita = reviewer(session, clock, "rita", "illegal_goods", "abuse", "terrorism", "child_safety", "trusted_flaggers")
    ravi = reviewer(session, clock, "ravi", "appeals")
    flagger = reports.register_trusted_flagger(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        organisation="Counter Extremism e.V.",
        fields=["terrorism"],
        email="tf@example.org",
        awarded_by="DSC Ireland",
        token_id=5,
    )
    notice = reports.submit_notice(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        reason="drugs_weapons",
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        explanation="Selling drugs.",
        good_faith=True,
        notifier_name="Tom Meier",
        notifier_email="tom@example.de",
    )
    removal = decide(
        session,
        clock,
        platform,
        rita,
        notice.case_id,
        Plan(outcome="action", action="remove_message", policy="illegal_goods", reason="Drug sales.", legal_ground="BtMG § 29"),
    )
    extortion = reports.submit_notice(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        reason="extortion",
        subject_kind="account",
        subject_id=cast.accounts["extortionist"],
        explanation="Threatens to publish photos.",
        good_faith=True,
        notifier_name="Tom",
        notifier_email="tom@example.de",
    )
    decide(
        session,
        clock,
        platform,
        rita,
        extortion.case_id,
        Plan(
            outcome="action",
            action="suspend_account",
            policy="extortion",
            reason="Sextortion.",
            until=clock.now() + timedelta(days=90),
        ),
    )
    tco = reports.submit_notice(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        reason="terrorism",
        subject_kind="chat",
        subject_id=cast.chats["bulletin"],
        explanation="Propaganda channel.",
        good_faith=True,
        flagger=flagger,
    )
    decide(
        session,
        clock,
        platform,
        rita,
        tco.case_id,
        Plan(outcome="action", action="close_chat", policy="terrorism", reason="Terrorist propaganda channel."),
    )

    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.REMOVED
    assert platform.get_account(cast.accounts["extortionist"]).state is AccountState.SUSPENDED
    assert platform.get_chat(cast.chats["bulletin"]).closed
    statements = list(session.query(StatementOfReasons))
    assert len(statements) >= 4  # three decisions and at least one strike-threshold restriction
    flagged = next(s for s in statements if s.payload["source_type"] == "SOURCE_TRUSTED_FLAGGER")
    assert flagged.payload["source_identity"] == "Counter Extremism e.V."

    with dsa_backend("http") as dsa:
        summary = dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
        assert (summary.rejected, summary.failed) == (0, 0) and summary.submitted == len(statements)
        assert set(dsa.held) == {s.puid for s in statements}

    statement = next(s for s in statements if s.action_id == removal.action_id)
    clock.advance(days=30)
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="I was quoting the dealer to warn people.")
    appeals.decide_appeal(
        session,
        principal=ravi.principal,
        actor=ravi.actor,
        clock=clock,
        platform=platform,
        appeal_id=appeal.id,
        outcome="reversed",
        reason="A warning, not an offer.",
    )
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
    assert statement.correction and notice.outcome == "action"
