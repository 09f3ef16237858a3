"""Retention of handled events' content. `pipeline_events.payload` holds the event as
received (message text, media and account ids): personal data, kept only as long as
backtests and replays need it (`pipeline_payload_days`). After that the payload is blanked;
the row stays, because it is the idempotency record (a replay of the event must still change
nothing) and the verdicts and rule hits are the record of what was decided."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.pipeline.models import HandledEvent

PURGED = ""  # what a payload past retention holds


def purge_payloads(session: Session, *, actor: Actor, clock: Clock, days: int) -> int:
    """Blank the payloads of events handled more than `days` days ago; returns how many."""
    if not 1 <= days <= 3650:
        raise InvalidInput("Keep event payloads for 1 to 3650 days.", field="days")
    cutoff = clock.now() - timedelta(days=days)
    stale = (HandledEvent.handled_at < cutoff) & (HandledEvent.payload != PURGED)
    count = session.scalar(select(func.count()).select_from(HandledEvent).where(stale)) or 0
    if count:
        session.execute(update(HandledEvent).where(stale).values(payload=PURGED))
        record(
            session,
            actor=actor,
            clock=clock,
            action="pipeline.retention.purge",
            object_type="pipeline_event",
            reason=f"event payloads past {days} days",
            details={"cutoff": cutoff.isoformat(), "events": count, "days": days},
        )
    return count
