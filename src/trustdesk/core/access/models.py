"""The access log: one row per view of a person's data (who, when, why, what), append-only.

A table of its own rather than entries of the audit chain: a view is a read, and every
append to the chain locks its head (one chain, one writer), so logging each page view there
would make every read of a case wait on every other; views are also far more numerous than
changes and are kept for their own period, while the chain keeps everything for ever. The
rows are never updated; who may read them is AUDIT_READ (docs/access-log.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class AccessEntry(Base):
    __tablename__ = "core_access_log"
    __table_args__ = (Index("ix_core_access_log_subject", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)  # staff:alice, token:ingest, cli:root
    channel: Mapped[str] = mapped_column(String(16))  # console | api | export | cli
    subject_kind: Mapped[str] = mapped_column(String(32))  # account | username | phone ... (a target's kind)
    subject_id: Mapped[str] = mapped_column(String(200))
    what: Mapped[str] = mapped_column(String(64))  # account_record, review_case, lawful_request ...
    object_ref: Mapped[str | None] = mapped_column(String(100))  # the record shown: case:12, request:7
    purpose_kind: Mapped[str] = mapped_column(String(16))  # case | appeal | request | notice | subject_request
    purpose_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))  # the viewer's own words, when given
    request_id: Mapped[str | None] = mapped_column(String(64))  # the HTTP request id, to match the server's log
