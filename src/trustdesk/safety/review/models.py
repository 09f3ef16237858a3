"""Review tables. A case is one subject (message, account, media, chat) awaiting a decision;
further reports about it while it is open join it instead of opening another. Every change
of a case is also a row in `review_case_events`, the subject's history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trustdesk.core.database import Base, UTCDateTime


class CaseState(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    DECIDED = "decided"


OPEN_STATES: tuple[str, ...] = (CaseState.OPEN.value, CaseState.ESCALATED.value)


class CaseOutcome(StrEnum):
    ACTION = "action"
    NO_ACTION = "no_action"


class AppealState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class AppealOutcome(StrEnum):
    """`reversed`: the appeal succeeded and the action was undone; `confirmed`: it stands."""

    REVERSED = "reversed"
    CONFIRMED = "confirmed"


class ReviewQueue(Base):
    __tablename__ = "review_queues"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service_hours: Mapped[int] = mapped_column(Integer)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class QueueMember(Base):
    __tablename__ = "review_queue_members"
    __table_args__ = (UniqueConstraint("queue_key", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_key: Mapped[str] = mapped_column(ForeignKey("review_queues.key"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Case(Base):
    __tablename__ = "review_cases"
    # One index for each sort order and filter the queue page offers (`finder`, issue #18).
    __table_args__ = (
        Index("ix_review_cases_queue_order", "queue", "state", "priority", "opened_at", "id"),
        Index("ix_review_cases_queue_due", "queue", "state", "due_at", "id"),
        Index("ix_review_cases_queue_opened", "queue", "state", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    queue: Mapped[str] = mapped_column(ForeignKey("review_queues.key"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(24))
    sources: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    rule_ref: Mapped[str | None] = mapped_column(String(200))
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy_hint: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    reports: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))

    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", back_populates="case")


class CaseEvent(Base):
    __tablename__ = "review_case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")


class Decision(Base):
    """What a reviewer decided on a case: the policy (and law), the action, its territorial
    scope and duration, or that no action was needed."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str | None] = mapped_column(String(64))
    legal_ground: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(32))
    territorial_scope: Mapped[list[str] | None] = mapped_column(JSON)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"))
    bulk_ref: Mapped[str | None] = mapped_column(String(64), index=True)


class Appeal(Base):
    """An internal complaint (Art. 20 DSA) against one action, decided by someone other than
    the person who took the action."""

    __tablename__ = "review_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements_of_reasons.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), index=True)
    queue: Mapped[str] = mapped_column(ForeignKey("review_queues.key"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    first_reviewer: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class ReviewerPreference(Base):
    """A reviewer's own wellness settings: media blurred and greyscale until revealed, and a
    daily limit of cases from sensitive queues."""

    __tablename__ = "reviewer_preferences"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    blur_media: Mapped[bool] = mapped_column(Boolean, default=True)
    greyscale_media: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_sensitive_limit: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
