"""Cases and queues: open (grouping repeat reports about one open subject), list and load
within the caller's queues, claim with an expiring lock, release, escalate.

A claim is taken with one conditional UPDATE, so two reviewers pressing 'claim' at once on
either backend get one winner and one clear refusal, never two owners."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.database import rows_matched
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Principal, scope_review_queues
from trustdesk.http.pagination import Keyset, SortKey
from trustdesk.safety.enforcement.actions import Source, SubjectKind
from trustdesk.safety.review.models import OPEN_STATES, Case, CaseEvent, CaseState, QueueMember, ReviewQueue
from trustdesk.safety.review.preferences import preferences_of, sensitive_claims_today
from trustdesk.safety.review.routing import load_setup

CLAIM_MINUTES = 20


def ensure_queues(session: Session, *, actor: Actor, clock: Clock) -> list[str]:
    """Create the queues of `queues.json` that do not exist yet; returns their keys."""
    existing = set(session.scalars(select(ReviewQueue.key)))
    created = []
    for spec in load_setup().queues:
        if spec.key not in existing:
            session.add(
                ReviewQueue(
                    key=spec.key,
                    name=spec.name,
                    description=spec.description,
                    service_hours=spec.service_hours,
                    sensitive=spec.sensitive,
                )
            )
            created.append(spec.key)
    session.flush()
    if created:
        record(
            session,
            actor=actor,
            clock=clock,
            action="review.queues.create",
            object_type="review_queue",
            details={"queues": created},
        )
    return created


def get_queue(session: Session, *, key: str) -> ReviewQueue:
    queue = session.get(ReviewQueue, key)
    if queue is None:
        raise InvalidInput(
            f"Unknown queue '{key}'. Valid: {', '.join(sorted(session.scalars(select(ReviewQueue.key))))}.", field="queue"
        )
    return queue


def add_member(session: Session, *, actor: Actor, clock: Clock, queue: str, username: str) -> QueueMember:
    get_queue(session, key=queue)
    existing = session.scalars(
        select(QueueMember).where(QueueMember.queue_key == queue, QueueMember.username == username)
    ).first()
    if existing is not None:
        return existing
    member = QueueMember(queue_key=queue, username=username, added_at=clock.now())
    session.add(member)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="review.queue.member_add",
        object_type="review_queue",
        object_id=queue,
        details={"username": username},
    )
    return member


def member_queues(session: Session, *, username: str) -> frozenset[str]:
    return frozenset(session.scalars(select(QueueMember.queue_key).where(QueueMember.username == username)))


def visible_queues(session: Session, *, principal: Principal) -> frozenset[str] | None:
    """The queues `principal` may see (None: all), decided by the permissions module."""
    return scope_review_queues(principal, member_of=member_queues(session, username=principal.name))


def record_event(session: Session, *, case: Case, actor: Actor, clock: Clock, kind: str, **detail: object) -> None:
    """One line of the case's history, and its audit entry."""
    session.add(CaseEvent(case_id=case.id, at=clock.now(), actor=str(actor), kind=kind, detail=detail))
    record(
        session,
        actor=actor,
        clock=clock,
        action=f"review.case.{kind}",
        object_type="review_case",
        object_id=case.id,
        reason=str(detail.get("reason") or "") or None,
        details={k: v for k, v in detail.items() if k != "reason"},
    )


def _check_open(subject_kind: str, source: str, priority: int) -> None:
    if subject_kind not in SubjectKind.__members__.values():
        raise InvalidInput(f"Unknown subject kind '{subject_kind}'. Valid: {', '.join(SubjectKind)}.", field="subject_kind")
    if source not in Source.__members__.values():
        raise InvalidInput(f"Unknown source '{source}'. Valid: {', '.join(Source)}.", field="source")
    if not 0 <= priority <= 100:
        raise InvalidInput("Priority runs from 0 (lowest) to 100 (most urgent).", field="priority")


def open_case(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    subject_kind: str,
    subject_id: str,
    queue: str,
    priority: int,
    source: str,
    reason: str,
    rule_ref: str | None = None,
    signals: dict | None = None,
    policy_hint: str | None = None,
    language: str | None = None,
) -> Case:
    """Open a case about a subject, or, while one about it is open, add this report to it
    (its source, signals, a higher priority) and return that one."""
    _check_open(subject_kind, source, priority)
    existing = open_case_for(session, subject_kind=subject_kind, subject_id=subject_id)
    if existing is not None:
        return _group(
            session,
            case=existing,
            actor=actor,
            clock=clock,
            priority=priority,
            source=source,
            reason=reason,
            signals=signals or {},
            rule_ref=rule_ref,
        )
    spec = get_queue(session, key=queue)
    case = Case(
        subject_kind=subject_kind,
        subject_id=subject_id,
        queue=queue,
        priority=priority,
        state=CaseState.OPEN.value,
        source=source,
        sources=[source],
        reason=reason,
        rule_ref=rule_ref,
        signals=signals or {},
        policy_hint=policy_hint,
        language=language,
        trusted_flagger=source == Source.TRUSTED_FLAGGER,
        reports=1,
        opened_at=clock.now(),
        due_at=clock.now() + timedelta(hours=spec.service_hours),
    )
    session.add(case)
    session.flush()
    record_event(
        session, case=case, actor=actor, clock=clock, kind="open", queue=queue, source=source, reason=reason, rule_ref=rule_ref
    )
    return case


def open_case_for(session: Session, *, subject_kind: str, subject_id: str) -> Case | None:
    query = select(Case).where(Case.subject_kind == subject_kind, Case.subject_id == subject_id, Case.state.in_(OPEN_STATES))
    return session.scalars(query.order_by(Case.id)).first()


def _group(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    clock: Clock,
    priority: int,
    source: str,
    reason: str,
    signals: dict,
    rule_ref: str | None,
) -> Case:
    case.priority = max(case.priority, priority)
    case.sources = list(dict.fromkeys([*case.sources, source]))
    case.signals = {**case.signals, **signals}
    case.reports += 1
    case.trusted_flagger = case.trusted_flagger or source == Source.TRUSTED_FLAGGER
    record_event(session, case=case, actor=actor, clock=clock, kind="grouped", source=source, reason=reason, rule_ref=rule_ref)
    return case


def get_case(session: Session, *, principal: Principal, case_id: int) -> Case:
    """Load a case the caller may see; one outside their queues is 'not found'."""
    case = session.get(Case, case_id)
    queues = visible_queues(session, principal=principal)
    if case is None or (queues is not None and case.queue not in queues):
        raise NotFound(f"No case {case_id} in your queues.")
    return case


CASE_ORDER = Keyset(
    (
        SortKey(Case.priority, "priority", descending=True),
        SortKey(Case.opened_at, "opened_at", instant=True),
        SortKey(Case.id, "id"),
    )
)


def list_cases(
    session: Session, *, principal: Principal, queue: str | None = None, states: tuple[str, ...] = OPEN_STATES, limit: int = 100
) -> list[Case]:
    """Most urgent first: priority, then the oldest."""
    return page_cases(session, principal=principal, queue=queue, states=states, limit=limit)[0]


def page_cases(
    session: Session,
    *,
    principal: Principal,
    queue: str | None = None,
    states: tuple[str, ...] = OPEN_STATES,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """A page of `list_cases` and the cursor of the next (None at the end): keyset
    pagination, so no case lies hidden past a cap (issue #19)."""
    queues = visible_queues(session, principal=principal)
    query = select(Case).where(Case.state.in_(states))
    if queue is not None:
        if queues is not None and queue not in queues:
            raise NotFound(f"You are not a member of queue '{queue}'.")
        query = query.where(Case.queue == queue)
    elif queues is not None:
        query = query.where(Case.queue.in_(queues))
    return CASE_ORDER.page(session, query, cursor=cursor, limit=limit)


def claim(
    session: Session, *, principal: Principal, actor: Actor, clock: Clock, case_id: int, minutes: int = CLAIM_MINUTES
) -> Case:
    """Take the case for `minutes`; a claim held by someone else and not yet expired wins."""
    case = get_case(session, principal=principal, case_id=case_id)
    if case.state not in OPEN_STATES:
        raise Conflict(f"Case {case_id} is {case.state}; there is nothing to claim.")
    now = clock.now()
    _check_own_limit(session, case=case, principal=principal, actor=actor, clock=clock)
    free = or_(Case.claimed_by.is_(None), Case.claim_expires_at <= now, Case.claimed_by == principal.name)
    taken = session.execute(
        update(Case)
        .where(Case.id == case_id, free)
        .values(claimed_by=principal.name, claim_expires_at=now + timedelta(minutes=minutes))
        .execution_options(synchronize_session=False)
    )
    session.refresh(case)
    if rows_matched(taken) != 1:
        raise Conflict(
            f"Case {case_id} is claimed by {case.claimed_by} until {case.claim_expires_at:%H:%M} UTC.", claimed_by=case.claimed_by
        )
    assert case.claim_expires_at is not None  # the update above set it
    record_event(session, case=case, actor=actor, clock=clock, kind="claim", until=case.claim_expires_at.isoformat())
    return case


def _check_own_limit(session: Session, *, case: Case, principal: Principal, actor: Actor, clock: Clock) -> None:
    """The reviewer's own daily limit for sensitive queues (see `preferences`)."""
    queue = session.get(ReviewQueue, case.queue)
    limit = preferences_of(session, username=principal.name, clock=clock).daily_sensitive_limit
    if queue is None or not queue.sensitive or limit is None or case.claimed_by == principal.name:
        return
    sensitive = frozenset(session.scalars(select(ReviewQueue.key).where(ReviewQueue.sensitive.is_(True))))
    if sensitive_claims_today(session, actor=actor, sensitive_queues=sensitive, now=clock.now()) >= limit:
        raise Conflict(
            f"You set yourself a limit of {limit} sensitive cases a day and have reached it. Take a break; "
            "change the limit in your review preferences if you must."
        )


def holds_claim(case: Case, *, username: str, now: datetime) -> bool:
    return case.claimed_by == username and case.claim_expires_at is not None and case.claim_expires_at > now


def require_claim(case: Case, *, principal: Principal, now: datetime) -> None:
    if not holds_claim(case, username=principal.name, now=now):
        raise Conflict(f"Claim case {case.id} first (or again: claims last {CLAIM_MINUTES} minutes).")


def release(session: Session, *, principal: Principal, actor: Actor, clock: Clock, case_id: int) -> Case:
    case = get_case(session, principal=principal, case_id=case_id)
    require_claim(case, principal=principal, now=clock.now())
    case.claimed_by, case.claim_expires_at = None, None
    record_event(session, case=case, actor=actor, clock=clock, kind="release")
    return case


def escalate(session: Session, *, principal: Principal, actor: Actor, clock: Clock, case_id: int, to: str, reason: str) -> Case:
    """Move the case to the senior queue or the legal team, with the reason, unclaimed."""
    case = get_case(session, principal=principal, case_id=case_id)
    require_claim(case, principal=principal, now=clock.now())
    targets = load_setup().escalation_targets
    if to not in targets or to == case.queue:
        raise InvalidInput(f"Escalate to one of: {', '.join(t for t in targets if t != case.queue)}.", field="to")
    if not reason.strip():
        raise InvalidInput("Say why the case needs escalating.", field="reason")
    spec = get_queue(session, key=to)
    previous = case.queue
    case.queue, case.state, case.claimed_by, case.claim_expires_at = to, CaseState.ESCALATED.value, None, None
    case.due_at = clock.now() + timedelta(hours=spec.service_hours)
    record_event(
        session, case=case, actor=actor, clock=clock, kind="escalate", from_queue=previous, to_queue=to, reason=reason.strip()
    )
    return case
