"""Blind re-review and the senior's final label.

The re-reviewer gets a `BlindItem`: the subject and its content, and nothing of the first
decision (neither its outcome nor its policy), of who took it, or of why it was sampled. The
type has no field for them, so no page or API answer built from it can show them. Their
label is compared with the first decision's: the same outcome, and for an action the same
policy, is agreement, and the first decision's label becomes final; anything else goes to a
senior reviewer, who sees both labels (not who gave them) and gives the final one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import (
    Permission,
    Principal,
    authorize,
    authorize_blind_review,
    authorize_final_label,
)
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.quality.models import QualitySample, SampleState
from trustdesk.safety.review.models import CaseOutcome

MAX_NOTE = 2000


@dataclass(frozen=True)
class BlindItem:
    """What a blind re-reviewer sees. Add no field that tells the first decision, its
    decider or the sample's reason (tests/safety/quality/test_blind.py holds this)."""

    sample_id: int
    subject_kind: str
    subject_id: str
    queue: str | None
    sampled_at: datetime
    content: str | None


@dataclass(frozen=True)
class Label:
    outcome: str
    policy: str | None
    note: str = ""


def same_label(a_outcome: str | None, a_policy: str | None, b_outcome: str | None, b_policy: str | None) -> bool:
    if a_outcome != b_outcome:
        return False
    return a_outcome != CaseOutcome.ACTION.value or a_policy == b_policy


def _check(label: Label) -> Label:
    if label.outcome not in CaseOutcome.__members__.values():
        raise InvalidInput(f"The label is one of: {', '.join(CaseOutcome)}.", field="outcome")
    if len(label.note) > MAX_NOTE:
        raise InvalidInput(f"The note is longer than {MAX_NOTE} characters.", field="note")
    if label.outcome == CaseOutcome.NO_ACTION.value:
        return Label(label.outcome, None, label.note.strip())
    if not label.policy:
        raise InvalidInput("Name the policy the content breaks.", field="policy")
    load_policies().get(label.policy)
    return Label(label.outcome, label.policy, label.note.strip())


def _content(platform: Platform | None, sample: QualitySample) -> str | None:
    """The message text when the subject is a message the platform still has; the state of
    the message is left out, since a removal would tell the first decision."""
    if platform is None or sample.subject_kind != "message":
        return None
    try:
        return platform.get_message(sample.subject_id).text
    except LookupError:
        return None


def blind_view(sample: QualitySample, platform: Platform | None) -> BlindItem:
    return BlindItem(
        sample.id, sample.subject_kind, sample.subject_id, sample.queue, sample.sampled_at, _content(platform, sample)
    )


def _waiting(session: Session, principal: Principal, state: SampleState) -> list[QualitySample]:
    query = select(QualitySample).where(QualitySample.state == state.value, QualitySample.decided_by != principal.actor_name)
    if state is SampleState.SENIOR:
        query = query.where(QualitySample.blind_by != principal.actor_name)
    return list(session.scalars(query.order_by(QualitySample.sampled_at, QualitySample.id).limit(200)))


def blind_queue(session: Session, *, principal: Principal, platform: Platform | None = None) -> list[BlindItem]:
    """Samples waiting for a blind re-review, but never the caller's own decisions."""
    authorize(principal, Permission.QUALITY_REVIEW)
    return [blind_view(s, platform) for s in _waiting(session, principal, SampleState.BLIND)]


def _sample(session: Session, sample_id: int) -> QualitySample:
    sample = session.get(QualitySample, sample_id)
    if sample is None:
        raise NotFound(f"No quality sample {sample_id}.")
    return sample


def blind_item(session: Session, *, principal: Principal, sample_id: int, platform: Platform | None = None) -> BlindItem:
    sample = _sample(session, sample_id)
    authorize_blind_review(principal, first_decider=sample.decided_by)
    if sample.state != SampleState.BLIND:
        raise Conflict(f"Sample {sample_id} has had its blind re-review.")
    return blind_view(sample, platform)


def give_blind_label(
    session: Session, *, principal: Principal, actor: Actor, clock: Clock, sample_id: int, label: Label
) -> QualitySample:
    sample = _sample(session, sample_id)
    authorize_blind_review(principal, first_decider=sample.decided_by)
    if sample.state != SampleState.BLIND:
        raise Conflict(f"Sample {sample_id} has had its blind re-review.")
    label = _check(label)
    now = clock.now()
    agreed = same_label(label.outcome, label.policy, sample.first_outcome, sample.first_policy)
    sample.blind_by, sample.blind_at, sample.blind_outcome, sample.blind_policy = str(actor), now, label.outcome, label.policy
    sample.blind_note, sample.agreed = label.note or None, agreed
    if agreed:
        _finalise(sample, sample.first_outcome, sample.first_policy, now)
    else:
        sample.state = SampleState.SENIOR.value
    record(
        session,
        actor=actor,
        clock=clock,
        action="quality.blind_label",
        object_type="quality_sample",
        object_id=sample.id,
        details={"outcome": label.outcome, "policy": label.policy, "agreed": agreed},
    )
    return sample


def _finalise(sample: QualitySample, outcome: str, policy: str | None, now: datetime) -> None:
    sample.final_outcome, sample.final_policy, sample.labelled_at = outcome, policy, now
    sample.first_correct = same_label(outcome, policy, sample.first_outcome, sample.first_policy)
    sample.state = SampleState.LABELLED.value


def disagreements(session: Session, *, principal: Principal) -> list[QualitySample]:
    """Samples whose re-review disagreed, for a senior who took part in neither label."""
    authorize(principal, Permission.QUALITY_ADJUDICATE)
    return _waiting(session, principal, SampleState.SENIOR)


def disagreement(session: Session, *, principal: Principal, sample_id: int) -> QualitySample:
    sample = _sample(session, sample_id)
    authorize_final_label(principal, first_decider=sample.decided_by, blind_reviewer=sample.blind_by or "")
    if sample.state != SampleState.SENIOR:
        raise Conflict(f"Sample {sample_id} is not waiting for a final label.")
    return sample


def give_final_label(
    session: Session, *, principal: Principal, actor: Actor, clock: Clock, sample_id: int, label: Label
) -> QualitySample:
    sample = disagreement(session, principal=principal, sample_id=sample_id)
    label = _check(label)
    if not label.note:
        raise InvalidInput("Say why: the final label settles a disagreement.", field="note")
    now = clock.now()
    sample.senior_by, sample.senior_at, sample.senior_note = str(actor), now, label.note
    _finalise(sample, label.outcome, label.policy, now)
    record(
        session,
        actor=actor,
        clock=clock,
        action="quality.final_label",
        object_type="quality_sample",
        object_id=sample.id,
        reason=label.note,
        details={"outcome": label.outcome, "policy": label.policy, "first_correct": sample.first_correct},
    )
    return sample
