"""The privacy room's tables: the rights requests of the people in the data and how each was
answered, the restrictions of processing they obtained, and the mark of every row retention or
an erasure emptied (so a run is idempotent and the record says what went, never what it held)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class RightKind(StrEnum):
    ACCESS = "access"  # GDPR Art. 15
    ERASURE = "erasure"  # Art. 17
    RESTRICTION = "restriction"  # Art. 18


class RightState(StrEnum):
    RECEIVED = "received"
    COMPLETED = "completed"
    PARTLY_DEFERRED = "partly_deferred"  # answered, with a part held back for a stated reason
    DEFERRED = "deferred"  # nothing done yet, for a stated reason; tried again later
    REFUSED = "refused"


class Obstacle(StrEnum):
    """Why a request, or part of one, waits or is refused (the reason recorded)."""

    LEGAL_HOLD = "legal_hold"  # a preservation order froze the account (e-Evidence Art. 11; GDPR Art. 17(3)(e))
    OPEN_ORDER = "open_order"  # a lawful request about the account is still open (GDPR Art. 17(3)(b))
    NON_DISCLOSURE = "non_disclosure_order"  # the user may not be told yet (GDPR Art. 23; 18 U.S.C. 2705(b))
    CONFIDENTIAL_ORDER = "confidential_order"  # the instrument's own confidentiality, no notice due yet
    OPEN_APPEAL = "open_appeal"  # an internal complaint is undecided (DSA Art. 20)
    RESTRICTED = "restricted"  # the person obtained a restriction (GDPR Art. 18(1)(c))
    LEGAL_OBLIGATION = "legal_obligation"  # kept under Art. 17(3)(b) per the data map
    UNRESOLVED_SENDER = "unresolved_sender"  # held messages no one could say who sent (staff-only note)


class RightsRequest(Base):
    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(200))  # who took it in (staff, the CLI)
    note: Mapped[str] = mapped_column(Text, default="")
    # [{"obstacle", "detail", "scope"}]: staff-only; "detail" may name a lawful request, which
    # the person is never shown while a non-disclosure order runs.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    told: Mapped[str] = mapped_column(Text, default="")  # what the person is told
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # rows exported or erased per table
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_sha256: Mapped[str | None] = mapped_column(String(64))


class Restriction(Base):
    """GDPR Art. 18: the account's data is only stored (retention does not empty it) until lifted."""

    __tablename__ = "privacy_restrictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(200))


class PurgedRow(Base):
    """One row retention or an erasure emptied: its table and key, when, and why."""

    __tablename__ = "privacy_purged"
    __table_args__ = (UniqueConstraint("table_name", "row_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(16))  # retention | erasure
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_requests.id"))
