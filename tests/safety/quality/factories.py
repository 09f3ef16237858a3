"""Decisions to sample, made through the real review and enforcement services, and the
people of the quality loop (a manager, reviewers, a senior) as principals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.safety.review.factories import TEST_ACTOR, Reviewer, reviewer
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.quality import sampling
from trustdesk.safety.quality.models import SamplingRule
from trustdesk.safety.review import decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.decisions import Plan
from trustdesk.safety.review.models import Decision

QUEUES = ("illegal_goods", "abuse", "general", "trusted_flaggers")


def manager() -> Reviewer:
    roles = frozenset({Role.ADMIN})
    return Reviewer(Principal(kind=PrincipalKind.STAFF, id=1, name="ada", permissions=permissions_for(roles), roles=roles))


def senior(session: Session, clock: FrozenClock, name: str = "sena") -> Reviewer:
    return reviewer(session, clock, name, *QUEUES, role=Role.SENIOR_REVIEWER)


def rule(session: Session, clock: FrozenClock, **spec: object) -> SamplingRule:
    boss = manager()
    values = {"name": "test rule", "share": 1.0, "active_from": clock.now() - timedelta(days=1), **spec}
    return sampling.create_rule(
        session,
        principal=boss.principal,
        actor=boss.actor,
        clock=clock,
        spec=sampling.RuleSpec(**values),  # type: ignore[arg-type]
    )


def decide(
    session: Session,
    clock: FrozenClock,
    platform: Platform,
    who: Reviewer,
    subject_id: str,
    *,
    outcome: str = "action",
    policy: str = "illegal_goods",
    queue: str = "illegal_goods",
    source: str = "notice",
    rule_ref: str | None = None,
    policy_hint: str | None = None,
) -> Decision:
    """A case opened and decided by `who` (who must be a member of `queue`)."""
    case = review.open_case(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        subject_kind="message",
        subject_id=subject_id,
        queue=queue,
        priority=30,
        source=source,
        reason="reported",
        rule_ref=rule_ref,
        policy_hint=policy_hint,
    )
    clock.advance(hours=2)
    review.claim(session, principal=who.principal, actor=who.actor, clock=clock, case_id=case.id)
    plan = (
        Plan(outcome="action", action="remove_message", policy=policy, reason="Breaks the policy.")
        if outcome == "action"
        else Plan(outcome="no_action", reason="Nothing wrong with it.")
    )
    return decisions.decide(
        session, principal=who.principal, actor=who.actor, clock=clock, platform=platform, case_id=case.id, plan=plan
    )


def automated(
    session: Session,
    clock: FrozenClock,
    platform: Platform,
    subject_id: str,
    *,
    ref: str = "demo/drugs@v2",
    policy: str = "extortion",
) -> EnforcementAction:
    """An action a rule took on its own, recorded as the rules engine records it."""
    return enforcement.take_action(
        session,
        actor=Actor("rule", ref),
        clock=clock,
        platform=platform,
        subject_kind="message",
        subject_id=subject_id,
        action="remove_message",
        policy=policy,
        automated=True,
        source="rule",
        reason="Matched a rule.",
        rule_ref=ref,
    )
