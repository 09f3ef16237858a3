"""Our statements of reasons and the DSA Transparency Database: submitting the pending ones
through the `DsaDatabase` port (rejections kept with the API's errors for a person to fix),
a person's revision of a rejected one, and the export of a period as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.dsa_database import DsaDatabase
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.models import StatementOfReasons


@dataclass(frozen=True)
class SubmissionSummary:
    submitted: int
    rejected: int
    failed: int


def submit_pending(
    session: Session, *, actor: Actor, clock: Clock, dsa_database: DsaDatabase, limit: int = 1000
) -> SubmissionSummary:
    rows = list(
        session.scalars(
            select(StatementOfReasons)
            .where(StatementOfReasons.dsa_state == "pending")
            .order_by(StatementOfReasons.id)
            .limit(limit)
        )
    )
    outcome = dsa_database.submit([row.payload for row in rows])
    now = clock.now()
    for row in rows:
        row.dsa_attempts += 1
        if row.puid in outcome.accepted:
            row.dsa_state, row.dsa_uuid, row.dsa_errors, row.dsa_submitted_at = (
                "submitted",
                outcome.accepted[row.puid] or None,
                None,
                now,
            )
        elif row.puid in outcome.rejected:
            row.dsa_state, row.dsa_errors = "rejected", outcome.rejected[row.puid]
        else:
            row.dsa_errors = {"transport": [outcome.failed.get(row.puid, "no answer")]}
    summary = SubmissionSummary(len(outcome.accepted), len(outcome.rejected), len(outcome.failed))
    record(
        session,
        actor=actor,
        clock=clock,
        action="dsa.submit",
        object_type="statement_of_reasons",
        details={"submitted": summary.submitted, "rejected": summary.rejected, "failed": summary.failed},
    )
    return summary


def rejected_statements(session: Session) -> list[StatementOfReasons]:
    return list(
        session.scalars(
            select(StatementOfReasons).where(StatementOfReasons.dsa_state == "rejected").order_by(StatementOfReasons.id)
        )
    )


def revise_statement(
    session: Session, *, actor: Actor, clock: Clock, statement_id: int, payload: dict[str, Any]
) -> StatementOfReasons:
    """A person's fix of a rejected statement: checked by the same rules, then queued again."""
    row = session.get(StatementOfReasons, statement_id)
    if row is None:
        raise NotFound(f"No statement {statement_id}.")
    if payload.get("puid") != row.puid:
        raise InvalidInput(f"The puid must stay {row.puid}.", field="puid")
    errors = validate_statement(payload)
    if errors:
        raise InvalidInput("The statement still breaks the database's rules.", errors=errors)
    row.payload, row.dsa_state, row.dsa_errors = payload, "pending", None
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
