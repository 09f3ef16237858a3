"""Tables of the emergency lane: one row per TCO removal order handled by the lane, one row per
piece of content it removed (with the preserved copy the law asks us to keep for six months),
and one row per threat-to-life case with its DSA Art. 18 notification draft.

Rows are never deleted; a state changes in place only together with an audit entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class RemovalState(StrEnum):
    """Where a TCO order stands in the lane."""

    AUTO_REMOVED = "auto_removed"  # removed at once; a person still has to confirm
    AWAITING_PERSON = "awaiting_person"  # not eligible for automatic removal: a person decides
    REMOVED_BY_PERSON = "removed_by_person"
    CONFIRMED = "confirmed"  # a person confirmed the automatic removal afterwards
    FAILED = "failed"  # the platform refused; a person must act


class ThreatState(StrEnum):
    DRAFT = "draft"  # the Art. 18 notification waits for a person
    SENT = "sent"
    DISMISSED = "dismissed"


class ThreatSource(StrEnum):
    REVIEW = "review"
    RULE = "rule"
    STAFF = "staff"


class Removal(Base):
    __tablename__ = "emergency_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), unique=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    why_not_automatic: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    authority_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # on-call paged: deadline near
    missed_paged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # on-call paged: missed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RemovedContent(Base):
    """One removed message and its preserved copy (TCO Art. 6: content and related data, six
    months, longer only on a court's request)."""

    __tablename__ = "emergency_removed_content"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    removal_id: Mapped[int] = mapped_column(ForeignKey("emergency_removals.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[str | None] = mapped_column(String(255))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"))
    platform_ok: Mapped[bool] = mapped_column(Boolean)
    platform_detail: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    preserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    preserve_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ThreatCase(Base):
    """A threat to life or safety that Trustdesk learnt of (DSA Art. 18), with the states to
    notify and the draft a person confirms before it is sent."""

    __tablename__ = "emergency_threat_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(120))
    message_id: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text)
    place_country: Mapped[str | None] = mapped_column(String(2))
    suspect_country: Mapped[str | None] = mapped_column(String(2))
    victim_country: Mapped[str | None] = mapped_column(String(2))
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipient_reason: Mapped[str] = mapped_column(Text)
    draft: Mapped[str] = mapped_column(Text)
    contact_points_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sent or dismissed
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = mapped_column(Text)
