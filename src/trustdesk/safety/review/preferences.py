"""Reviewer wellness: each reviewer's own settings. Media starts blurred and greyscale until
the reviewer chooses to see it; a daily limit of cases from sensitive queues (child safety,
terrorism) stops further claims there for the day, by the reviewer's own choice."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.review.models import Case, CaseEvent, ReviewerPreference


def preferences_of(session: Session, *, username: str, clock: Clock) -> ReviewerPreference:
    """The reviewer's settings, or the protective defaults (not stored until changed)."""
    found = session.get(ReviewerPreference, username)
    return found or ReviewerPreference(
        username=username, blur_media=True, greyscale_media=True, daily_sensitive_limit=None, updated_at=clock.now()
    )


def set_preferences(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    username: str,
    blur_media: bool,
    greyscale_media: bool,
    daily_sensitive_limit: int | None,
) -> ReviewerPreference:
    if daily_sensitive_limit is not None and not 1 <= daily_sensitive_limit <= 500:
        raise InvalidInput("A daily limit runs from 1 to 500 cases, or leave it empty for none.", field="daily_sensitive_limit")
    row = session.get(ReviewerPreference, username) or ReviewerPreference(username=username)
    row.blur_media, row.greyscale_media, row.daily_sensitive_limit, row.updated_at = (
        blur_media,
        greyscale_media,
        daily_sensitive_limit,
        clock.now(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="review.preferences.set",
        object_type="reviewer_preferences",
        object_id=username,
        details={"blur": blur_media, "greyscale": greyscale_media, "daily_sensitive_limit": daily_sensitive_limit},
    )
    return row


def sensitive_claims_today(session: Session, *, actor: Actor, sensitive_queues: frozenset[str], now: datetime) -> int:
    start = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    query = (
        select(func.count(func.distinct(CaseEvent.case_id)))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.actor == str(actor), CaseEvent.kind == "claim", CaseEvent.at >= start, Case.queue.in_(sensitive_queues))
    )
    return int(session.scalar(query) or 0)
