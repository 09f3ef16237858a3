"""Appeals (Art. 20 DSA): six months open, a different reviewer, reversal through the port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.safety.review.factories import TEST_ACTOR, reviewer
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.port import MessageState
from trustdesk.safety.review import appeals, decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.decisions import Plan


@pytest.fixture
def removed(session, clock, platform, cast):  # type: ignore[no-untyped-def]
    case = review.open_case(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        queue="illegal_goods",
        priority=30,
        source="notice",
        reason="reported",
    )
    rita = reviewer(session, clock, "rita", "illegal_goods", "appeals")
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=case.id)
    decision = decisions.decide(
        session,
        principal=rita.principal,
        actor=rita.actor,
        clock=clock,
        platform=platform,
        case_id=case.id,
        plan=Plan(outcome="action", action="remove_message", policy="spam", reason="Spam."),
    )
    from trustdesk.safety.enforcement.service import get_action

    return rita, get_action(session, action_id=decision.action_id).statement


def test_an_upheld_appeal_by_another_reviewer_restores_the_message(session, clock, platform, cast, removed) -> None:
    rita, statement = removed
    clock.advance(days=100)
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="I was warning neighbours, not selling.")
    with pytest.raises(Conflict):
        appeals.file_appeal(session, clock=clock, token=statement.token, text="again")
    with pytest.raises(Forbidden, match="another reviewer"):
        appeals.decide_appeal(
            session,
            principal=rita.principal,
            actor=rita.actor,
            clock=clock,
            platform=platform,
            appeal_id=appeal.id,
            outcome="reversed",
            reason="ok",
        )
    ravi = reviewer(session, clock, "ravi", "appeals")
    appeals.decide_appeal(
        session,
        principal=ravi.principal,
        actor=ravi.actor,
        clock=clock,
        platform=platform,
        appeal_id=appeal.id,
        outcome="reversed",
        reason="Context shows a warning.",
    )
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
    assert appeal.outcome == "reversed" and statement.correction and statement.action.reversed_by == "staff:ravi"


def test_a_confirmed_appeal_leaves_the_action(session, clock, platform, cast, removed) -> None:
    _, statement = removed
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="Unfair.")
    ravi = reviewer(session, clock, "ravi", "appeals")
    with pytest.raises(InvalidInput):
        appeals.decide_appeal(
            session,
            principal=ravi.principal,
            actor=ravi.actor,
            clock=clock,
            platform=platform,
            appeal_id=appeal.id,
            outcome="maybe",
            reason="x",
        )
    appeals.decide_appeal(
        session,
        principal=ravi.principal,
        actor=ravi.actor,
        clock=clock,
        platform=platform,
        appeal_id=appeal.id,
        outcome="confirmed",
        reason="Clear spam.",
    )
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.REMOVED
    assert statement.correction is None


def test_appeals_are_open_six_months_and_need_words(session, clock, platform, removed) -> None:
    _, statement = removed
    with pytest.raises(InvalidInput):
        appeals.file_appeal(session, clock=clock, token=statement.token, text="   ")
    with pytest.raises(NotFound):
        appeals.file_appeal(session, clock=clock, token="wrong", text="x")
    clock.advance(days=182)
    assert appeals.file_appeal(session, clock=clock, token=statement.token, text="Still in time.").id
    clock.advance(days=2)
    with pytest.raises(Conflict, match="time to appeal ended"):
        appeals.file_appeal(session, clock=clock, token=statement.token, text="Late.")


def test_appeals_are_hidden_from_reviewers_outside_the_appeals_queue(session, clock, removed) -> None:
    _, statement = removed
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="Unfair.")
    outsider = reviewer(session, clock, "olga", "general")
    assert appeals.list_appeals(session, principal=outsider.principal) == []
    with pytest.raises(NotFound):
        appeals.get_appeal(session, principal=outsider.principal, appeal_id=appeal.id)
    assert timedelta(0) < statement.appeal_until - clock.now()


@pytest.mark.parametrize("role", [Role.TRIAGE, Role.ADMIN, Role.AUDITOR])
def test_only_those_who_decide_cases_see_or_decide_appeals_whichever_entry_point_calls(
    session, clock, platform, removed, role
) -> None:
    _, statement = removed
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="Unfair.")
    member = reviewer(session, clock, "tara", "appeals", role=role)
    with pytest.raises(Forbidden, match="review:decide"):
        appeals.list_appeals(session, principal=member.principal)
    with pytest.raises(Forbidden, match="review:decide"):
        appeals.get_appeal(session, principal=member.principal, appeal_id=appeal.id)
    with pytest.raises(Forbidden, match="review:decide"):
        appeals.decide_appeal(
            session,
            principal=member.principal,
            actor=member.actor,
            clock=clock,
            platform=platform,
            appeal_id=appeal.id,
            outcome="confirmed",
            reason="Spam.",
        )
    assert appeal.state == "open"
