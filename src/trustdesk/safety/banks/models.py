"""Bank tables. Nothing is deleted: a bank or entry is disabled, never removed, and every
entry change is also a row in `safety_bank_entry_changes`, which is how every process's
in-memory matcher learns about it within seconds without rebuilding its index."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trustdesk.core.database import Base, UTCDateTime


class BankKind(StrEnum):
    """A positive bank holds what must be found; a negative bank holds known false positives:
    content matching one of its entries is never reported as a match of a positive bank."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class MatchSource(StrEnum):
    LOOKUP = "lookup"
    RETROACTION = "retroaction"


class Bank(Base):
    __tablename__ = "safety_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=BankKind.POSITIVE.value)
    policy: Mapped[str | None] = mapped_column(String(64))
    dsa_category: Mapped[str | None] = mapped_column(String(80))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    rollout_percent: Mapped[int] = mapped_column(Integer, default=100)
    # Match an upload in any of its eight rotations and flips (hash lists from exchanges
    # are hashed on the raw pixel grid, EXIF orientation ignored). On by default for
    # positive banks, off for negative ones (see service.create_bank).
    all_orientations: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BankEntryChange(Base):
    """One mutation of entries: `created` (the entries carry this row's id) or `state`
    (enable, disable, flood pause of the ids in `entry_ids`)."""

    __tablename__ = "safety_bank_entry_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"))
    entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BankEntry(Base):
    __tablename__ = "safety_bank_entries"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "value"),
        Index("ix_safety_bank_entries_signal", "signal_type", "value"),
        Index("ix_safety_bank_entries_external", "bank_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    # The whole signal where it does not fit `value` (vPDQ: python-threatexchange's JSON of
    # frames; `value` is then its SHA-256, see SignalKind.stored_value); None otherwise.
    signal_data: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    exchange: Mapped[str | None] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(200))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    change_id: Mapped[int] = mapped_column(ForeignKey("safety_bank_entry_changes.id"), index=True)
    flood_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bank: Mapped[Bank] = relationship()


class MediaHash(Base):
    """The hashes of one upload, remembered so that entries added later find it.
    `message_id` is the message that carries it, when the connector knows it: what
    retroaction removes when a bank that allows automatic removal gains a matching entry."""

    __tablename__ = "safety_media_hashes"
    __table_args__ = (UniqueConstraint("platform", "media_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    media_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    md5: Mapped[str] = mapped_column(String(32), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    vpdq: Mapped[str | None] = mapped_column(Text)  # a video's vPDQ signal, where it was hashed
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))


class HashMatch(Base):
    """A stored upload matched an entry (at upload time or by retroaction); one row per pair."""

    __tablename__ = "safety_hash_matches"
    __table_args__ = (UniqueConstraint("media_hash_id", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_hash_id: Mapped[int] = mapped_column(ForeignKey("safety_media_hashes.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("safety_bank_entries.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"))
    distance: Mapped[int] = mapped_column(Integer)
    # Which of the upload's rotations/flips matched (signals.hashing.ORIENTATIONS)
    orientation: Mapped[str] = mapped_column(String(16), default="original")
    source: Mapped[str] = mapped_column(String(16))
    action_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[int | None] = mapped_column(Integer)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EntryHits(Base):
    """Matches of one entry within one clock hour: the flood guard's counter."""

    __tablename__ = "safety_entry_hits"
    __table_args__ = (UniqueConstraint("entry_id", "hour"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("safety_bank_entries.id"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class FloodAlert(Base):
    __tablename__ = "safety_flood_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("safety_bank_entries.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hits: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    page_id: Mapped[int | None] = mapped_column(Integer)
    paging_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)


class RetroactionRun(Base):
    __tablename__ = "safety_retroaction_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("safety_banks.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(200))
    entries: Mapped[int] = mapped_column(Integer)
    media_scanned: Mapped[int] = mapped_column(Integer)
    matches: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def removed(self) -> int:
        """Messages this run removed automatically."""
        return int((self.detail or {}).get("removed", 0))
