"""Our statements of reasons and the DSA Transparency Database: an outbox that submits the
pending ones through the `DsaDatabase` port in batches of up to 100, holds back any that
Trustdesk's own checks (`dsa_checks`) find untrue to the record, keeps rejections with the
API's errors for a person to fix, and survives a crash; a person's revision of a rejected or
held one; the self-audit of what was submitted against what happened; the backlog; and the
export of a period as JSON lines.

States of a statement: `pending` (to send) -> `sending` (in a call whose answer is not yet
recorded) -> `submitted` | `rejected` (by the database) ; `held` (by our own checks, never
sent). A call that gets no answer leaves its statements `pending`, with why, for the next run.
`drain` commits each batch's claim before the call and its outcome after it, so that a
submitter killed at any point resumes where it stopped: statements left `sending` are looked
up in the database by puid (`reconcile`), never sent twice and never skipped. One submitter
drains an account's outbox at a time (the rate limits are the account's)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, null, select, update
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database, table_of
from trustdesk.core.dsa_database import MAX_BATCH, BatchOutcome, DsaDatabase
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.safety.enforcement import dsa_checks
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.enforcement.policies import load_policies

PENDING, SENDING, SUBMITTED, REJECTED, HELD = "pending", "sending", "submitted", "rejected", "held"
STATES = (PENDING, SENDING, SUBMITTED, REJECTED, HELD)
FOR_A_PERSON = (REJECTED, HELD)
STALE_AFTER = timedelta(hours=24)  # a statement not in the database a day after the user was told


@dataclass
class SubmissionSummary:
    submitted: int = 0
    rejected: int = 0
    failed: int = 0
    held: int = 0  # by Trustdesk's own checks, never sent
    recovered: int = 0  # found in the database after a crash, not sent again
    batches: int = 0

    def add(self, other: SubmissionSummary) -> None:
        for name in ("submitted", "rejected", "failed", "held", "recovered", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _next_batch(session: Session, *, after: int, size: int) -> list[StatementOfReasons]:
    query = (
        select(StatementOfReasons)
        .where(StatementOfReasons.dsa_state == PENDING, StatementOfReasons.id > after)
        .order_by(StatementOfReasons.id)
        .limit(size)
    )
    return list(session.scalars(query))


def _hold_back(session: Session, rows: list[StatementOfReasons], summary: SubmissionSummary) -> list[StatementOfReasons]:
    """Run our own checks on a batch; hold the untrue ones (with why) and return the rest."""
    actions = session.scalars(select(EnforcementAction).where(EnforcementAction.id.in_([r.action_id for r in rows])))
    happened = dsa_checks.happened_for(session, actions)
    book, ready = load_policies(), []
    for row in rows:
        errors = dsa_checks.check(row.payload, happened[row.action_id], book=book)
        if errors:
            row.dsa_state, row.dsa_errors = HELD, {name: [f"Trustdesk: {m}" for m in ms] for name, ms in errors.items()}
            summary.held += 1
        else:
            ready.append(row)
    return ready


def _apply(rows: list[StatementOfReasons], outcome: BatchOutcome, now: datetime, summary: SubmissionSummary) -> None:
    for row in rows:
        row.dsa_attempts += 1
        if row.puid in outcome.accepted:
            row.dsa_state, row.dsa_uuid, row.dsa_errors, row.dsa_submitted_at = (
                SUBMITTED,
                outcome.accepted[row.puid] or None,
                None,
                now,
            )
            summary.submitted += 1
        elif row.puid in outcome.rejected:
            row.dsa_state, row.dsa_errors = REJECTED, outcome.rejected[row.puid]
            summary.rejected += 1
        else:
            row.dsa_state, row.dsa_errors = PENDING, {"transport": [outcome.failed.get(row.puid, "no answer")]}
            summary.failed += 1


def _audit(session: Session, actor: Actor, clock: Clock, summary: SubmissionSummary) -> None:
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.submit",
        object_type="statement_of_reasons",
        details={
            "submitted": summary.submitted,
            "rejected": summary.rejected,
            "failed": summary.failed,
            "held": summary.held,
            "recovered": summary.recovered,
            "batches": summary.batches,
        },
    )


def submit_pending(
    session: Session, *, actor: Actor, clock: Clock, dsa_database: DsaDatabase, limit: int = 1000
) -> SubmissionSummary:
    """Submit up to `limit` pending statements, in batches of MAX_BATCH, inside the caller's
    transaction (small runs and tests; `drain` is the outbox's own loop)."""
    summary, after, taken = SubmissionSummary(), 0, 0
    while taken < limit:
        rows = _next_batch(session, after=after, size=min(MAX_BATCH, limit - taken))
        if not rows:
            break
        after, taken = rows[-1].id, taken + len(rows)
        ready = _hold_back(session, rows, summary)
        if ready:
            summary.batches += 1
            _apply(ready, dsa_database.submit([row.payload for row in ready]), clock.now(), summary)
    _audit(session, actor, clock, summary)
    return summary


def reconcile(db: Database, *, clock: Clock, dsa_database: DsaDatabase) -> SubmissionSummary:
    """After a crash: each statement left `sending` is looked up by puid; the ones the
    database holds are submitted (with their uuid), the others pending again, in order."""
    summary = SubmissionSummary()
    with db.transaction() as session:
        stuck = list(session.scalars(select(StatementOfReasons).where(StatementOfReasons.dsa_state == SENDING)))
        now = clock.now()
        for row in stuck:
            held = dsa_database.held(row.puid)
            if held is None:
                row.dsa_state = PENDING
            else:
                row.dsa_state, row.dsa_uuid, row.dsa_errors, row.dsa_submitted_at = SUBMITTED, held or None, None, now
                summary.recovered += 1
    return summary


def _claim(session: Session, *, after: int, size: int) -> list[Any]:
    """The next pending statements after `after`, each with the columns of its action that
    the checks read (`dsa_checks.CHECKED_COLUMNS`): one query and no ORM objects, the
    outbox's hot path (`statement_id` is the statement's id, `id` its action's)."""
    action = table_of(EnforcementAction)
    query = (
        select(
            StatementOfReasons.id.label("statement_id"),
            StatementOfReasons.puid,
            StatementOfReasons.payload,
            StatementOfReasons.dsa_attempts,
            *(action.c[name] for name in dsa_checks.CHECKED_COLUMNS),
        )
        .join(action, action.c.id == StatementOfReasons.action_id)
        .where(StatementOfReasons.dsa_state == PENDING, StatementOfReasons.id > after)
        .order_by(StatementOfReasons.id)
        .limit(size)
    )
    return list(session.execute(query).all())


def drain(
    db: Database,
    *,
    actor: Actor,
    clock: Clock,
    dsa_database: DsaDatabase,
    limit: int | None = None,
    batch_size: int = MAX_BATCH,
    after_batch: Callable[[SubmissionSummary], None] | None = None,
) -> SubmissionSummary:
    """The outbox's loop: reconcile, then batch after batch (claim and commit, call, record
    and commit) until nothing is pending, `limit` statements were taken, or a whole batch got
    no answer (the service is away: the next run tries again). `after_batch` sees the running
    totals after each committed batch."""
    summary = reconcile(db, clock=clock, dsa_database=dsa_database)
    after, taken, book = 0, 0, load_policies()
    while limit is None or taken < limit:
        size = batch_size if limit is None else min(batch_size, limit - taken)
        with db.transaction() as session:
            rows = _claim(session, after=after, size=size)
            if not rows:
                break
            after, taken = rows[-1].statement_id, taken + len(rows)
            happened = dsa_checks.happened_for(session, rows)
            ready, held = [], []
            for row in rows:
                errors = dsa_checks.check(row.payload, happened[row.id], book=book)
                if errors:
                    marked = {name: [f"Trustdesk: {m}" for m in ms] for name, ms in errors.items()}
                    held.append({"id": row.statement_id, "dsa_state": HELD, "dsa_errors": marked})
                else:
                    ready.append(row)
            if held:
                _record_outcomes(session, held)
                summary.held += len(held)
            if ready:
                ids = [row.statement_id for row in ready]
                session.execute(update(StatementOfReasons).where(StatementOfReasons.id.in_(ids)).values(dsa_state=SENDING))
        if not ready:
            continue
        outcome = dsa_database.submit([row.payload for row in ready])
        now, changes = clock.now(), []
        for row in ready:
            change: dict[str, Any] = {"id": row.statement_id, "dsa_attempts": row.dsa_attempts + 1}
            if row.puid in outcome.accepted:
                change |= {"dsa_state": SUBMITTED, "dsa_uuid": outcome.accepted[row.puid] or None}
                change |= {"dsa_errors": None, "dsa_submitted_at": now}
                summary.submitted += 1
            elif row.puid in outcome.rejected:
                change |= {"dsa_state": REJECTED, "dsa_errors": outcome.rejected[row.puid]}
                summary.rejected += 1
            else:
                change |= {"dsa_state": PENDING, "dsa_errors": {"transport": [outcome.failed.get(row.puid, "no answer")]}}
                summary.failed += 1
            changes.append(change)
        with db.transaction() as session:
            _record_outcomes(session, changes)
        summary.batches += 1
        if after_batch is not None:
            after_batch(summary)
        if outcome.failed and not outcome.accepted and not outcome.rejected:
            break
    with db.transaction() as session:
        _audit(session, actor, clock, summary)
    return summary


def _record_outcomes(session: Session, changes: list[dict[str, Any]]) -> None:
    """One UPDATE by primary key, executed many times, per set of columns (a submitted row
    carries more than a rejected one): Core, not the ORM's unit of work. A column that is
    None in every row of a group (a submitted statement's cleared errors) is written as SQL
    NULL in the statement itself, not serialised once a row."""
    table = table_of(StatementOfReasons)
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_keys.setdefault(tuple(sorted(change)), []).append(change)
    for keys, group in by_keys.items():
        cleared = {key for key in keys if key != "id" and all(change[key] is None for change in group)}
        values: dict[str, Any] = {key: null() if key in cleared else bindparam(f"v_{key}") for key in keys if key != "id"}
        statement = update(table).where(table.c.id == bindparam("v_id")).values(values)
        session.execute(statement, [{f"v_{k}": v for k, v in change.items() if k not in cleared} for change in group])


@dataclass(frozen=True)
class Backlog:
    counts: dict[str, int]  # state -> statements
    oldest_pending_at: datetime | None
    failing: int  # pending statements whose last call got no answer

    @property
    def waiting(self) -> int:
        return self.counts.get(PENDING, 0) + self.counts.get(SENDING, 0)


def backlog(session: Session) -> Backlog:
    counts = {state: 0 for state in STATES}
    query = select(StatementOfReasons.dsa_state, func.count()).group_by(StatementOfReasons.dsa_state)
    counts.update({state: n for state, n in session.execute(query)})
    oldest = session.scalar(
        select(func.min(StatementOfReasons.told_at)).where(StatementOfReasons.dsa_state.in_((PENDING, SENDING)))
    )
    failing = session.scalar(
        select(func.count())
        .select_from(StatementOfReasons)
        .where(StatementOfReasons.dsa_state == PENDING, StatementOfReasons.dsa_errors.is_not(None))
    )
    return Backlog(counts, oldest, failing or 0)


@dataclass(frozen=True)
class Discrepancy:
    """One thing the self-audit found: `kind` untrue (a statement says what did not happen),
    missing (an action with no statement), stale (not in the database a day on)."""

    kind: str
    action_id: int
    statement_id: int | None
    puid: str | None
    state: str | None
    field: str
    message: str


@dataclass
class AuditResult:
    checked: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)


def self_audit(session: Session, *, actor: Actor, clock: Clock, chunk: int = 500) -> AuditResult:
    """Hold every statement the database has taken against our records as they are now (the
    same checks as before submission, with any notice linked since), list actions that never
    got a statement and statements not in the database a day after the user was told, and
    record the run. For the in-process scheduler, the CLI (`trustdesk dsa self-audit`) and
    the console."""
    result, book, now = AuditResult(), load_policies(), clock.now()
    query = (
        select(StatementOfReasons, EnforcementAction)
        .join(EnforcementAction, EnforcementAction.id == StatementOfReasons.action_id)
        .where(StatementOfReasons.dsa_state == SUBMITTED)
        .order_by(StatementOfReasons.id)
        .execution_options(yield_per=chunk)
    )
    for part in session.execute(query).partitions(chunk):
        happened = dsa_checks.happened_for(session, (action for _, action in part))
        for statement, action in part:
            result.checked += 1
            for name, messages in dsa_checks.check(statement.payload, happened[action.id], book=book).items():
                for message in messages:
                    result.discrepancies.append(
                        Discrepancy("untrue", action.id, statement.id, statement.puid, statement.dsa_state, name, message)
                    )
    no_statement = (
        select(EnforcementAction.id)
        .outerjoin(StatementOfReasons, StatementOfReasons.action_id == EnforcementAction.id)
        .where(EnforcementAction.platform_ok.is_(True), StatementOfReasons.id.is_(None))
        .order_by(EnforcementAction.id)
    )
    for action_id in session.scalars(no_statement):
        result.discrepancies.append(
            Discrepancy("missing", action_id, None, None, None, "statement", "The action took effect but has no statement.")
        )
    stale = (
        select(StatementOfReasons)
        .where(StatementOfReasons.dsa_state != SUBMITTED, StatementOfReasons.told_at < now - STALE_AFTER)
        .order_by(StatementOfReasons.id)
    )
    for row in session.scalars(stale):
        result.discrepancies.append(
            Discrepancy(
                "stale",
                row.action_id,
                row.id,
                row.puid,
                row.dsa_state,
                "dsa_state",
                f"Still {row.dsa_state} {(now - row.told_at).days} days after the user was told ({row.told_at:%Y-%m-%d}).",
            )
        )
    kinds: dict[str, int] = {}
    for found in result.discrepancies:
        kinds[found.kind] = kinds.get(found.kind, 0) + 1
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.self_audit",
        object_type="statement_of_reasons",
        details={"checked": result.checked, "discrepancies": len(result.discrepancies), **kinds},
    )
    return result


def rejected_statements(session: Session) -> list[StatementOfReasons]:
    """The statements waiting for a person: rejected by the database or held by our checks."""
    query = select(StatementOfReasons).where(StatementOfReasons.dsa_state.in_(FOR_A_PERSON))
    return list(session.scalars(query.order_by(StatementOfReasons.id)))


def revise_statement(
    session: Session, *, actor: Actor, clock: Clock, statement_id: int, payload: dict[str, Any]
) -> StatementOfReasons:
    """A person's fix of a rejected or held statement: checked by the database's rules and by
    our own against the record, then queued again."""
    row = session.get(StatementOfReasons, statement_id)
    if row is None:
        raise NotFound(f"No statement {statement_id}.")
    if row.dsa_state in (SUBMITTED, SENDING):
        raise Conflict(f"Statement {statement_id} is {row.dsa_state} to the DSA database; it can no longer be revised here.")
    if payload.get("puid") != row.puid:
        raise InvalidInput(f"The puid must stay {row.puid}.", field="puid")
    errors = validate_statement(payload)
    if errors:
        raise InvalidInput("The statement still breaks the database's rules.", errors=errors)
    untrue = dsa_checks.check(payload, dsa_checks.happened_for(session, [row.action])[row.action_id])
    if untrue:
        raise InvalidInput("The statement says what our records do not.", errors=untrue)
    row.payload, row.dsa_state, row.dsa_errors = payload, PENDING, None
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.revise",
        object_type="statement_of_reasons",
        object_id=row.id,
        change=payload,
        details={"puid": row.puid},
    )
    return row


def statements_in(session: Session, *, start: datetime, end: datetime) -> Iterator[StatementOfReasons]:
    query = select(StatementOfReasons).where(StatementOfReasons.told_at >= start, StatementOfReasons.told_at < end)
    yield from session.scalars(query.order_by(StatementOfReasons.told_at, StatementOfReasons.id).execution_options(yield_per=500))


def as_json_line(statement: StatementOfReasons) -> str:
    return json.dumps(statement.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
