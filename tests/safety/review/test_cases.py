"""Cases: grouping, routing, queue scoping, exclusive expiring claims, escalation, decisions
(single and bulk), the notifier told, and the reviewer's own limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.safety.review.factories import TEST_ACTOR, reviewer
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.port import AccountState, MessageState
from trustdesk.safety.reports import service as reports
from trustdesk.safety.review import decisions, preferences
from trustdesk.safety.review import service as review
from trustdesk.safety.review.context import case_context, media_of_case
from trustdesk.safety.review.decisions import Plan
from trustdesk.safety.review.models import CaseEvent
from trustdesk.safety.review.routing import route

REMOVE = Plan(outcome="action", action="remove_message", policy="illegal_goods", reason="Drug advertising.")


def open_(session, clock, subject_id, queue="illegal_goods", **kw):  # type: ignore[no-untyped-def]
    args = dict(subject_kind="message", priority=30, source="notice", reason="reported")
    return review.open_case(session, actor=TEST_ACTOR, clock=clock, subject_id=subject_id, queue=queue, **{**args, **kw})


def test_reports_about_one_open_subject_are_grouped(session, clock, cast) -> None:
    first = open_(session, clock, cast.messages["drug_ad"])
    second = open_(
        session, clock, cast.messages["drug_ad"], source="hash_match", priority=80, signals={"pdq": "ab12"}, rule_ref="bank:drugs"
    )
    assert second.id == first.id and first.reports == 2 and first.priority == 80
    assert first.sources == ["notice", "hash_match"] and first.signals == {"pdq": "ab12"}
    assert [e.kind for e in first.events] == ["open", "grouped"]


def test_open_case_refuses_unknown_values(session, clock, cast) -> None:
    for bad in ({"subject_kind": "post"}, {"source": "gossip"}, {"priority": 101}, {"queue": "nowhere"}):
        with pytest.raises(InvalidInput):
            open_(session, clock, cast.messages["drug_ad"], **bad)


def test_routing_by_policy_source_and_severity() -> None:
    assert route(policy="child_sexual_exploitation", source="trusted_flagger") == "child_safety"
    assert route(policy="spam", source="trusted_flagger") == "trusted_flaggers"
    assert route(policy="illegal_goods", source="notice") == "illegal_goods"
    assert route(policy="spam", source="notice", severity=3) == "abuse"
    assert route(policy=None, source="rule") == "general"


def test_a_reviewer_sees_only_their_queues(session, clock, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    rita = reviewer(session, clock, "rita", "general")
    with pytest.raises(NotFound):
        review.get_case(session, principal=rita.principal, case_id=case.id)
    with pytest.raises(NotFound):
        review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    assert review.list_cases(session, principal=rita.principal) == []
    ravi = reviewer(session, clock, "ravi", "illegal_goods")
    assert [c.id for c in review.list_cases(session, principal=ravi.principal)] == [case.id]


def test_claims_are_exclusive_until_they_expire(session, clock, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    rita, ravi = reviewer(session, clock, "rita", "illegal_goods"), reviewer(session, clock, "ravi", "illegal_goods")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    with pytest.raises(Conflict, match="claimed by rita"):
        review.claim(session, principal=ravi.principal, actor=ravi.actor, clock=clock, case_id=case.id)
    with pytest.raises(Conflict, match="Claim case"):
        decisions.decide(
            session, principal=ravi.principal, actor=ravi.actor, clock=clock, platform=None, case_id=case.id, plan=REMOVE
        )  # type: ignore[arg-type]
    clock.advance(minutes=review.CLAIM_MINUTES + 1)
    assert review.claim(session, principal=ravi.principal, actor=ravi.actor, clock=clock, case_id=case.id).claimed_by == "ravi"


def test_escalation_moves_the_case_to_the_senior_queue(session, clock, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    rita = reviewer(session, clock, "rita", "illegal_goods")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    with pytest.raises(InvalidInput):
        review.escalate(
            session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id, to="general", reason="x"
        )
    review.escalate(
        session,
        principal=rita.principal,
        actor=rita.actor,
        clock=clock,
        case_id=case.id,
        to="legal",
        reason="National law unclear",
    )
    assert case.queue == "legal" and case.state == "escalated" and case.claimed_by is None
    assert case.due_at == clock.now() + timedelta(hours=24)
    with pytest.raises(NotFound):  # rita is not on the legal team
        review.get_case(session, principal=rita.principal, case_id=case.id)


def test_a_decision_acts_closes_the_case_and_tells_the_notifier(session, clock, platform, cast) -> None:
    notice = reports.submit_notice(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        reason="drugs_weapons",
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        explanation="Selling drugs here.",
        good_faith=True,
        notifier_name="Tom Meier",
        notifier_email="tom@example.de",
    )
    rita = reviewer(session, clock, "rita", "illegal_goods")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=notice.case_id)
    decision = decisions.decide(
        session, principal=rita.principal, actor=rita.actor, clock=clock, platform=platform, case_id=notice.case_id, plan=REMOVE
    )
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.REMOVED
    assert decision.action_id is not None and notice.outcome == "action" and "out-of-court" in notice.outcome_text
    case = review.get_case(session, principal=rita.principal, case_id=notice.case_id)
    assert case.state == "decided" and case.claimed_by is None
    with pytest.raises(Conflict):
        decisions.decide(
            session, principal=rita.principal, actor=rita.actor, clock=clock, platform=platform, case_id=case.id, plan=REMOVE
        )


def test_account_actions_on_a_message_case_reach_the_sender(session, clock, platform, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    rita = reviewer(session, clock, "rita", "illegal_goods")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    plan = Plan(
        outcome="action",
        action="suspend_account",
        policy="illegal_goods",
        reason="Dealer.",
        until=clock.now() + timedelta(days=30),
    )
    decisions.decide(
        session, principal=rita.principal, actor=rita.actor, clock=clock, platform=platform, case_id=case.id, plan=plan
    )
    assert platform.get_account(cast.accounts["dealer"]).state is AccountState.SUSPENDED


def test_no_action_needs_a_reason_and_changes_nothing_on_the_platform(session, clock, platform, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    rita = reviewer(session, clock, "rita", "illegal_goods")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    with pytest.raises(InvalidInput):
        decisions.decide(
            session,
            principal=rita.principal,
            actor=rita.actor,
            clock=clock,
            platform=platform,
            case_id=case.id,
            plan=Plan(outcome="no_action", reason=" "),
        )
    decisions.decide(
        session,
        principal=rita.principal,
        actor=rita.actor,
        clock=clock,
        platform=platform,
        case_id=case.id,
        plan=Plan(outcome="no_action", reason="Satire."),
    )
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE and case.outcome == "no_action"


def test_bulk_decisions_are_previewed_then_confirmed(session, clock, platform, cast) -> None:
    ids = [open_(session, clock, cast.messages[k]).id for k in ("drug_ad", "drug_price_list")]
    rita = reviewer(session, clock, "rita", "illegal_goods")
    rows, digest = decisions.bulk_preview(session, principal=rita.principal, platform=platform, case_ids=ids, plan=REMOVE)
    assert [r.problem for r in rows] == [None, None] and all(r.target.startswith("message:") for r in rows)
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE  # the preview changed nothing
    with pytest.raises(Conflict):
        decisions.bulk_decide(
            session,
            principal=rita.principal,
            actor=rita.actor,
            clock=clock,
            platform=platform,
            case_ids=ids,
            plan=REMOVE,
            confirm="stale",
        )
    made = decisions.bulk_decide(
        session,
        principal=rita.principal,
        actor=rita.actor,
        clock=clock,
        platform=platform,
        case_ids=ids,
        plan=REMOVE,
        confirm=digest,
    )
    assert len({d.bulk_ref for d in made}) == 1
    assert all(platform.get_message(cast.messages[k]).state is MessageState.REMOVED for k in ("drug_ad", "drug_price_list"))


def test_context_shows_surroundings_history_and_only_the_cases_media(session, clock, platform, cast) -> None:
    case = open_(session, clock, cast.messages["drug_price_list"])
    ctx = case_context(session, clock=clock, platform=platform, case=case)
    assert ctx.message.id == case.subject_id and ctx.account.id == cast.accounts["dealer"]
    assert any(m.id == case.subject_id for m in ctx.surrounding) and len(ctx.surrounding) > 1
    assert ctx.media and media_of_case(platform, case, ctx.media[0].id) is not None
    assert media_of_case(platform, case, "f999999") is None


def test_a_reviewers_own_daily_limit_on_sensitive_queues(session, clock, cast) -> None:
    rita = reviewer(session, clock, "rita", "child_safety")
    preferences.set_preferences(
        session, actor=rita.actor, clock=clock, username="rita", blur_media=True, greyscale_media=True, daily_sensitive_limit=1
    )
    first = open_(session, clock, cast.messages["drug_ad"], queue="child_safety")
    second = open_(session, clock, cast.messages["drug_price_list"], queue="child_safety")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=first.id)
    with pytest.raises(Conflict, match="limit of 1"):
        review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=second.id)
    with pytest.raises(InvalidInput):
        preferences.set_preferences(
            session,
            actor=rita.actor,
            clock=clock,
            username="rita",
            blur_media=True,
            greyscale_media=True,
            daily_sensitive_limit=0,
        )


def test_triage_without_membership_sees_nothing_and_managers_see_all(session, clock, cast) -> None:
    case = open_(session, clock, cast.messages["drug_ad"])
    admin = reviewer(session, clock, "ada", role=Role.ADMIN)
    assert review.get_case(session, principal=admin.principal, case_id=case.id) is case
    assert session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first().kind == "open"


@pytest.mark.parametrize("role", [Role.TRIAGE, Role.ADMIN])
def test_triage_and_managers_cannot_decide_whichever_entry_point_calls(session, clock, platform, cast, role) -> None:
    """The API and the console both require REVIEW_DECIDE; the service holds it too, so that a
    queue member with triage rights (or a manager, who sees every queue) cannot decide."""
    case = open_(session, clock, cast.messages["drug_ad"])
    member = reviewer(session, clock, "tara", "illegal_goods", role=role)
    review.claim(session, principal=member.principal, actor=member.actor, clock=clock, case_id=case.id)
    with pytest.raises(Forbidden, match="review:decide"):
        decisions.decide(
            session, principal=member.principal, actor=member.actor, clock=clock, platform=platform, case_id=case.id, plan=REMOVE
        )
    with pytest.raises(Forbidden, match="review:decide"):
        decisions.bulk_preview(session, principal=member.principal, platform=platform, case_ids=[case.id], plan=REMOVE)
    with pytest.raises(Forbidden, match="review:decide"):
        decisions.bulk_decide(
            session,
            principal=member.principal,
            actor=member.actor,
            clock=clock,
            platform=platform,
            case_ids=[case.id],
            plan=REMOVE,
            confirm="x",
        )
    assert case.state != "decided" and platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
