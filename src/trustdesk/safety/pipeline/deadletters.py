"""Dead letters: events the pipeline could not handle (malformed, or failing again and
again), kept with their error for a person to inspect and send back once the cause is fixed.
The database is the record (in both bus modes, so the console can list them); the bus's own
dead-letter stream holds a copy for operators who use NATS tooling."""

from __future__ import annotations

import json

import anyio.from_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.bus import Bus
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, NotFound
from trustdesk.safety.pipeline.models import DeadLetterRecord

MAX_ERROR = 4000


def _event_id(data: str) -> str | None:
    try:
        value = json.loads(data).get("id")
    except (ValueError, AttributeError):
        return None
    return value[:128] if isinstance(value, str) else None


def add(session: Session, *, clock: Clock, subject: str, data: bytes, error: str, attempts: int) -> DeadLetterRecord:
    """Recorded by the worker; no audit entry, as nothing anyone decided changed."""
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    row = DeadLetterRecord(
        event_id=_event_id(text), subject=subject[:256], data=text, error=error[:MAX_ERROR], attempts=attempts, at=clock.now()
    )
    session.add(row)
    session.flush()
    return row


def waiting(session: Session, *, limit: int = 50) -> list[DeadLetterRecord]:
    query = (
        select(DeadLetterRecord).where(DeadLetterRecord.replayed_at.is_(None)).order_by(DeadLetterRecord.id.desc()).limit(limit)
    )
    return list(session.scalars(query))


def count_waiting(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DeadLetterRecord).where(DeadLetterRecord.replayed_at.is_(None))) or 0


def get(session: Session, *, dead_letter_id: int) -> DeadLetterRecord:
    row = session.get(DeadLetterRecord, dead_letter_id)
    if row is None:
        raise NotFound(f"No dead letter {dead_letter_id}.")
    return row


def mark_replayed(session: Session, *, actor: Actor, clock: Clock, dead_letter_id: int) -> DeadLetterRecord:
    """Call after the event was published again (publishing twice is harmless: handling is
    idempotent, and a replay that never reached the bus must not look done)."""
    row = get(session, dead_letter_id=dead_letter_id)
    if row.replayed_at is not None:
        raise Conflict(f"Dead letter {dead_letter_id} was already replayed by {row.replayed_by}.")
    row.replayed_at, row.replayed_by = clock.now(), str(actor)
    record(
        session,
        actor=actor,
        clock=clock,
        action="pipeline.dead_letter.replay",
        object_type="pipeline_dead_letter",
        object_id=row.id,
        details={"event_id": row.event_id, "subject": row.subject, "attempts": row.attempts},
    )
    session.flush()
    return row


def relative_subject(subject: str, prefix: str) -> str:
    return subject.removeprefix(f"{prefix}.") if subject.startswith(f"{prefix}.") else "events.replayed"


async def replay(session: Session, *, bus: Bus, actor: Actor, clock: Clock, dead_letter_id: int) -> DeadLetterRecord:
    """Publish the dead letter again (without its message id, so the bus does not drop it as
    a duplicate), then mark it replayed. A malformed event comes straight back: fix it at
    the source and submit it again instead."""
    row = get(session, dead_letter_id=dead_letter_id)
    if row.replayed_at is not None:
        raise Conflict(f"Dead letter {dead_letter_id} was already replayed by {row.replayed_by}.")
    await bus.publish(relative_subject(row.subject, bus.prefix), row.data.encode())
    return mark_replayed(session, actor=actor, clock=clock, dead_letter_id=dead_letter_id)


def replay_from_thread(session: Session, *, bus: Bus, actor: Actor, clock: Clock, dead_letter_id: int) -> DeadLetterRecord:
    """`replay` for a plain `def` request handler (a worker thread that anyio started): the
    database work stays in the thread, only the publish runs on the event loop. On SQLite a
    transaction may wait for the write lock; waiting on the loop would stall every request."""
    row = get(session, dead_letter_id=dead_letter_id)
    if row.replayed_at is not None:
        raise Conflict(f"Dead letter {dead_letter_id} was already replayed by {row.replayed_by}.")
    anyio.from_thread.run(bus.publish, relative_subject(row.subject, bus.prefix), row.data.encode())
    return mark_replayed(session, actor=actor, clock=clock, dead_letter_id=dead_letter_id)
