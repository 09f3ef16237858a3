"""What the Matrix connector keeps on Trustdesk's side: every event Synapse streamed (the
durable inbox, deduplicated by event id, so a replay after an outage is harmless) and every
user report imported from Synapse's admin API (the notices)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class MatrixEvent(Base):
    __tablename__ = "matrix_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    room_id: Mapped[str] = mapped_column(String(255), index=True)
    sender: Mapped[str] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unchecked: Mapped[bool] = mapped_column(Boolean, default=False)  # let through while we were down
    verdict: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatrixReport(Base):
    __tablename__ = "matrix_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    synapse_report_id: Mapped[int] = mapped_column(Integer, unique=True)
    event_id: Mapped[str] = mapped_column(String(255))
    room_id: Mapped[str] = mapped_column(String(255))
    reporter: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_ref: Mapped[str | None] = mapped_column(String(64))  # the review case it opened, if any
