"""Tables for paging: one row per page (what happened, its state), one row per delivery (who
was paged, on which channel, whether it went out). Nothing is updated in place except the
page's state and acknowledgement, which are also audited. The tables keep the names they had
when paging lived in the emergency domain, and their revision stays on its migration branch."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class PageState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    UNANSWERED = "unanswered"  # every round of the rota was paged and nobody answered: still on the list
    RESOLVED = "resolved"  # its cause was dealt with (the removal done, say): nobody needs to answer


LIVE_STATES: tuple[str, ...] = (PageState.OPEN.value, PageState.UNANSWERED.value)  # on the emergencies list


class PageUrgency(StrEnum):
    EMERGENCY = "emergency"  # threat to life, TCO one-hour order
    DEADLINE = "deadline"  # a legal deadline about to be missed


class Page(Base):
    __tablename__ = "emergency_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    urgency: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=PageState.OPEN)
    escalate_after_s: Mapped[int] = mapped_column(Integer)
    max_rounds: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=0)  # position reached in the rota
    last_paged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class PageDelivery(Base):
    __tablename__ = "emergency_page_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("emergency_pages.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(64))  # staff username
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(String(500))
