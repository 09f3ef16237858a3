"""Notices (Art. 16 DSA) and the trusted flaggers (Art. 22 DSA) whose notices go first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class TrustedFlagger(Base):
    """An organisation awarded trusted-flagger status by a Digital Services Coordinator, for
    its field of expertise (a set of report reasons). Its notices arrive with its token."""

    __tablename__ = "trusted_flaggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200), unique=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    email: Mapped[str] = mapped_column(String(254))
    awarded_by: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notice(Base):
    """One notice as received: the notifier's words are kept as given. `token` is the
    notifier's receipt: with it they follow the notice and read the outcome."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(48))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    location: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    notifier_name: Mapped[str | None] = mapped_column(String(200))
    notifier_email: Mapped[str | None] = mapped_column(String(254))
    good_faith: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(8))
    trusted_flagger_id: Mapped[int | None] = mapped_column(ForeignKey("trusted_flaggers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_text: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
