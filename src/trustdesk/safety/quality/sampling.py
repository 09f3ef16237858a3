"""Sampling rules and the draw. A draw looks at the decisions of each active rule's current
and previous period, and takes:

- a `share` of those matching the rule, chosen by a hash of the rule and the decision (so the
  same decision is always in or out for a rule: a draw run twice takes the same, and nobody
  can steer which decisions are checked by deciding in some order);
- then, while fewer than `minimum` of the period's matching decisions are sampled, the next
  by the same hash, so that a quiet queue or a rarely firing rule still gets checked.

A decision is sampled once (the first rule by id that takes it). Run the draw at least once
per shortest period (`trustdesk quality draw` from cron, or `POST /api/v1/quality/draw`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.quality.models import (
    DeciderKind,
    ItemKind,
    QualitySample,
    QualitySource,
    SamplePeriod,
    SampleReason,
    SampleState,
    SamplingRule,
)
from trustdesk.safety.review.models import Case, CaseOutcome, Decision
from trustdesk.safety.review.service import get_queue

UNSPECIFIED = "unspecified"
STRIKES = "strike-threshold"  # the rule_ref of an action taken because an account reached a threshold
MAX_NAME = 200


# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    name: str
    share: float
    minimum: int = 0
    period: str = SamplePeriod.WEEK.value
    queue: str | None = None
    policy: str | None = None
    source: str | None = None
    decider: str | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


def _check_rule(session: Session, spec: RuleSpec, now: datetime) -> None:
    if not spec.name.strip() or len(spec.name) > MAX_NAME:
        raise InvalidInput(f"Name the rule in 1 to {MAX_NAME} characters.", field="name")
    if not 0 <= spec.share <= 1:
        raise InvalidInput("The share is a fraction from 0 to 1 (0.05 is 5 %).", field="share")
    if spec.minimum < 0 or spec.minimum > 100_000:
        raise InvalidInput("The minimum per period is 0 to 100,000 decisions.", field="minimum")
    if spec.share == 0 and spec.minimum == 0:
        raise InvalidInput("A rule with no share and no minimum samples nothing.", field="share")
    if spec.period not in SamplePeriod.__members__.values():
        raise InvalidInput(f"The period is one of: {', '.join(SamplePeriod)}.", field="period")
    if spec.source is not None and spec.source not in QualitySource.__members__.values():
        raise InvalidInput(f"Unknown source '{spec.source}'. Valid: {', '.join(QualitySource)}.", field="source")
    if spec.queue is not None:
        get_queue(session, key=spec.queue)
    if spec.policy is not None:
        load_policies().get(spec.policy)
    start = spec.active_from or now
    for value, field in ((spec.active_from, "active_from"), (spec.active_until, "active_until")):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("Give times with their time zone.", field=field)
    if spec.active_until is not None and spec.active_until <= start:
        raise InvalidInput("The window must end after it starts.", field="active_until")


def create_rule(session: Session, *, principal: Principal, actor: Actor, clock: Clock, spec: RuleSpec) -> SamplingRule:
    authorize(principal, Permission.QUALITY_MANAGE)
    now = clock.now()
    _check_rule(session, spec, now)
    rule = SamplingRule(
        name=spec.name.strip(),
        queue=spec.queue,
        policy=spec.policy,
        source=spec.source,
        decider=(spec.decider or "").strip() or None,
        share=float(spec.share),
        minimum=spec.minimum,
        period=spec.period,
        active_from=spec.active_from or now,
        active_until=spec.active_until,
        created_by=str(actor),
        created_at=now,
    )
    session.add(rule)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="quality.rule.create",
        object_type="quality_sampling_rule",
        object_id=rule.id,
        details={k: v.isoformat() if isinstance(v, datetime) else v for k, v in vars(spec).items()} | {"name": rule.name},
    )
    return rule


def retire_rule(session: Session, *, principal: Principal, actor: Actor, clock: Clock, rule_id: int) -> SamplingRule:
    authorize(principal, Permission.QUALITY_MANAGE)
    rule = session.get(SamplingRule, rule_id)
    if rule is None:
        raise NotFound(f"No sampling rule {rule_id}.")
    if rule.retired_at is not None:
        raise Conflict(f"Sampling rule {rule_id} was already retired.")
    rule.retired_at, rule.retired_by = clock.now(), str(actor)
    record(
        session, actor=actor, clock=clock, action="quality.rule.retire", object_type="quality_sampling_rule", object_id=rule.id
    )
    return rule


def list_rules(session: Session, *, principal: Principal, include_retired: bool = False) -> list[SamplingRule]:
    authorize(principal, Permission.QUALITY_READ)
    query = select(SamplingRule)
    if not include_retired:
        query = query.where(SamplingRule.retired_at.is_(None))
    return list(session.scalars(query.order_by(SamplingRule.id)))


# -- what a decision is, for sampling ---------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One decision that a rule may draw, described the same way for people and machines."""

    item_kind: ItemKind
    item_id: int
    decision_id: int | None
    action_id: int | None
    case_id: int | None
    subject_kind: str
    subject_id: str
    queue: str | None
    policy: str
    source: str
    detector: str | None
    decided_by: str
    decider_kind: str
    decided_at: datetime
    first_outcome: str
    first_policy: str | None


def source_of(source: str, ref: str | None) -> QualitySource:
    """The quality source of a case or action. The reference says more than the source
    column: a rule's action was once recorded as `hash_match`, and a classifier's rule names
    its model (`model:<id>@<version>`)."""
    if ref and ref.startswith(("model:", "classifier:")):
        return QualitySource.CLASSIFIER
    if ref and ref.startswith(STRIKES):
        return QualitySource.RULE
    if ref and ref.startswith("bank:"):
        return QualitySource.BANK
    if source in ("rule", "hash_match") and ref and "@v" in ref:
        return QualitySource.RULE
    if source == "hash_match":
        return QualitySource.BANK
    return QualitySource(source) if source in QualitySource.__members__.values() else QualitySource.OWN_INITIATIVE


def detector_of(source: QualitySource, ref: str | None) -> str | None:
    """The automated means and its version: a rule ref carries `@vN`, a model `@version`, a
    bank match its bank (`bank:3`; the entry is not a version of anything)."""
    if source not in (QualitySource.RULE, QualitySource.BANK, QualitySource.CLASSIFIER) or not ref:
        return None
    return ref.split("/entry:")[0] if source is QualitySource.BANK else ref


def decider_kind_of(decided_by: str, source: QualitySource, *, automated: bool = False) -> DeciderKind:
    """Who decided: a person for a reviewer's decision; for an automated action the means,
    even where the actor recorded is the reviewer whose decision set it off (a strike
    threshold's suspension)."""
    if decided_by.startswith("staff:") and not automated:
        return DeciderKind.REVIEWER
    if source is QualitySource.CLASSIFIER:
        return DeciderKind.MODEL
    if source is QualitySource.BANK:
        return DeciderKind.BANK
    return DeciderKind.RULE if automated or decided_by.startswith("rule:") else DeciderKind.SYSTEM


def _human(session: Session, start: datetime, end: datetime) -> Iterable[Candidate]:
    # Columns, not entities: a draw reads every decision of two periods, and loading each as
    # an ORM object (with its JSON columns) costs several times the read.
    query = (
        select(
            Decision.id,
            Decision.action_id,
            Decision.decided_by,
            Decision.decided_at,
            Decision.outcome,
            Decision.policy,
            Case.id,
            Case.subject_kind,
            Case.subject_id,
            Case.queue,
            Case.source,
            Case.rule_ref,
            Case.policy_hint,
        )
        .join(Case, Case.id == Decision.case_id)
        .where(Decision.decided_at >= start, Decision.decided_at < end)
        .order_by(Decision.id)
    )
    for (
        d_id,
        action_id,
        decided_by,
        decided_at,
        outcome,
        policy,
        case_id,
        kind,
        subject,
        queue,
        src,
        ref,
        hint,
    ) in session.execute(query):
        source = source_of(src, ref)
        acted = outcome == CaseOutcome.ACTION.value
        yield Candidate(
            item_kind=ItemKind.DECISION,
            item_id=d_id,
            decision_id=d_id,
            action_id=action_id,
            case_id=case_id,
            subject_kind=kind,
            subject_id=subject,
            queue=queue,
            policy=(policy if acted else hint) or UNSPECIFIED,
            source=source.value,
            detector=detector_of(source, ref),
            decided_by=decided_by,
            decider_kind=decider_kind_of(decided_by, source).value,
            decided_at=decided_at,
            first_outcome=outcome,
            first_policy=policy if acted else None,
        )


def _automated(session: Session, start: datetime, end: datetime) -> Iterable[Candidate]:
    a = EnforcementAction
    query = select(
        a.id, a.case_id, a.subject_kind, a.subject_id, a.policy, a.policy_version, a.source, a.rule_ref, a.actor, a.acted_at
    ).where(a.automated.is_(True), a.platform_ok.is_(True), a.acted_at >= start, a.acted_at < end)
    for a_id, case_id, kind, subject, policy, version, src, ref, actor, acted_at in session.execute(query.order_by(a.id)):
        source = source_of(src, ref)
        detector = detector_of(source, ref)
        if ref and ref.startswith(STRIKES):
            detector = f"{ref}@{version}"  # the thresholds are part of the policy book
        yield Candidate(
            item_kind=ItemKind.ACTION,
            item_id=a_id,
            decision_id=None,
            action_id=a_id,
            case_id=case_id,
            subject_kind=kind,
            subject_id=subject,
            queue=None,
            policy=policy or UNSPECIFIED,
            source=source.value,
            detector=detector,
            decided_by=actor,
            decider_kind=decider_kind_of(actor, source, automated=True).value,
            decided_at=acted_at,
            first_outcome=CaseOutcome.ACTION.value,
            first_policy=policy or None,
        )


def candidates(session: Session, *, start: datetime, end: datetime) -> list[Candidate]:
    return [*_human(session, start, end), *_automated(session, start, end)]


# -- the draw ----------------------------------------------------------------------------------


def period_start(period: str, moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == SamplePeriod.DAY:
        return day
    if period == SamplePeriod.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(period: str, start: datetime) -> datetime:
    if period == SamplePeriod.DAY:
        return start + timedelta(days=1)
    if period == SamplePeriod.WEEK:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def decision_maker(c: Candidate) -> str | None:
    """Who a rule's `decider` names: the reviewer of a person's decision (`staff:rita`), the
    rule, bank or model (with its version) of an automated one."""
    return c.detector if c.item_kind is ItemKind.ACTION else c.decided_by


def matches(rule: SamplingRule, c: Candidate) -> bool:
    return (
        (rule.queue is None or rule.queue == c.queue)
        and (rule.policy is None or rule.policy == c.policy)
        and (rule.source is None or rule.source == c.source)
        and (rule.decider is None or rule.decider == decision_maker(c))
        and rule.active_from <= c.decided_at
        and (rule.active_until is None or c.decided_at < rule.active_until)
    )


def draw_key(rule_id: int, c: Candidate) -> float:
    """Where a decision falls in [0, 1) for a rule: uniform, fixed, and not chosen by anyone."""
    digest = hashlib.sha256(f"{rule_id}:{c.item_kind}:{c.item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _sample(rule: SamplingRule, c: Candidate, reason: SampleReason, now: datetime) -> QualitySample:
    return QualitySample(
        item_kind=c.item_kind.value,
        item_id=c.item_id,
        decision_id=c.decision_id,
        action_id=c.action_id,
        case_id=c.case_id,
        subject_kind=c.subject_kind,
        subject_id=c.subject_id,
        queue=c.queue,
        policy=c.policy,
        source=c.source,
        detector=c.detector,
        decided_by=c.decided_by,
        decider_kind=c.decider_kind,
        decided_at=c.decided_at,
        first_outcome=c.first_outcome,
        first_policy=c.first_policy,
        rule_id=rule.id,
        reason=reason.value,
        sampled_at=now,
        state=SampleState.BLIND.value,
    )


def _draw_rule(rule: SamplingRule, pool: list[Candidate], taken: set[tuple[str, int]], counts: dict, now: datetime) -> list:
    """The samples `rule` takes from `pool` (decisions of its last two periods)."""
    made = []
    keyed = sorted(((draw_key(rule.id, c), c) for c in pool if matches(rule, c)), key=lambda kc: kc[0])
    rest = []
    for key, c in keyed:
        item = (c.item_kind.value, c.item_id)
        if item in taken:
            continue
        bucket = period_start(rule.period, c.decided_at)
        if key < rule.share:
            made.append(_sample(rule, c, SampleReason.SHARE, now))
            taken.add(item)
            counts[bucket] = counts.get(bucket, 0) + 1
        else:
            rest.append((bucket, item, c))
    for bucket, item, c in rest:  # lowest keys first, as sorted
        if counts.get(bucket, 0) < rule.minimum:
            made.append(_sample(rule, c, SampleReason.MINIMUM, now))
            taken.add(item)
            counts[bucket] = counts.get(bucket, 0) + 1
    return made


def _rule_counts(session: Session, rule: SamplingRule, since: datetime) -> dict[datetime, int]:
    counts: dict[datetime, int] = {}
    query = select(QualitySample.decided_at).where(QualitySample.rule_id == rule.id, QualitySample.decided_at >= since)
    for decided_at in session.scalars(query):
        bucket = period_start(rule.period, decided_at)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def draw(session: Session, *, principal: Principal, actor: Actor, clock: Clock) -> list[QualitySample]:
    """Draw the samples every active rule is owed now; returns those drawn."""
    authorize(principal, Permission.QUALITY_MANAGE)
    return draw_samples(session, actor=actor, clock=clock)


def draw_samples(session: Session, *, actor: Actor, clock: Clock) -> list[QualitySample]:
    """The draw itself, for the scheduler and the CLI (which hold no principal)."""
    now = clock.now()
    rules = [r for r in session.scalars(select(SamplingRule).where(SamplingRule.retired_at.is_(None)).order_by(SamplingRule.id))]
    rules = [r for r in rules if r.active_from <= now]
    if not rules:
        return []
    starts = {r.id: max(r.active_from, _previous_period(r.period, now)) for r in rules}
    since = min(starts.values())
    pool = candidates(session, start=since, end=now)
    sampled = select(QualitySample.item_kind, QualitySample.item_id).where(QualitySample.decided_at >= since)
    taken = {(k, i) for k, i in session.execute(sampled)}
    made: list[QualitySample] = []
    for rule in rules:
        window = [c for c in pool if c.decided_at >= starts[rule.id]]
        made += _draw_rule(rule, window, taken, _rule_counts(session, rule, starts[rule.id]), now)
    session.add_all(made)
    session.flush()
    if made:
        record(
            session,
            actor=actor,
            clock=clock,
            action="quality.draw",
            object_type="quality_sample",
            details={"samples": [s.id for s in made], "rules": sorted({s.rule_id for s in made})},
        )
    return made


def _previous_period(period: str, now: datetime) -> datetime:
    current = period_start(period, now)
    return period_start(period, current - timedelta(seconds=1))
