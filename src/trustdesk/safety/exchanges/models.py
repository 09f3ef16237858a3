"""One row per configured exchange: which API, its collaboration settings (no secrets: those
live in settings), the bank it fills, and where the last fetch stopped."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class FetchState(StrEnum):
    NEVER = "never"
    OK = "ok"
    FAILED = "failed"


class Exchange(Base):
    __tablename__ = "safety_exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    api: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=FetchState.NEVER.value)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    fetched_total: Mapped[int] = mapped_column(Integer, default=0)
    last_added: Mapped[int] = mapped_column(Integer, default=0)
    last_removed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
