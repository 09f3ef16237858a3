"""Enforcement tables: actions on the platform, strikes, statements of reasons (with their
DSA database submission state) and CyberTipline report drafts with preserved media.

Nothing is deleted or overwritten: a reversal is written beside the action it reverses, a
voided strike keeps its row, a corrected statement keeps what the user was first told."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trustdesk.core.database import Base, UTCDateTime


class TiplineState(StrEnum):
    DRAFT = "draft"
    FILED = "filed"


class EnforcementAction(Base):
    """One action on the platform, with who or what decided it and what the platform said.
    Columns are what the transparency reports count (source, automated, ground, times)."""

    __tablename__ = "enforcement_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(32))
    policy: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    decision_ground: Mapped[str] = mapped_column(String(48))
    legal_ground: Mapped[str | None] = mapped_column(Text)
    automated: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    rule_ref: Mapped[str | None] = mapped_column(String(200))
    territorial_scope: Mapped[list[str] | None] = mapped_column(JSON)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    caused_by_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"))
    actor: Mapped[str] = mapped_column(String(200))
    acted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    platform_ok: Mapped[bool] = mapped_column(Boolean)
    platform_detail: Mapped[str] = mapped_column(Text)
    platform_ref: Mapped[str | None] = mapped_column(String(200))
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_by: Mapped[str | None] = mapped_column(String(200))
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    reversal_ok: Mapped[bool | None] = mapped_column(Boolean)
    reversal_detail: Mapped[str | None] = mapped_column(Text)

    statement: Mapped[StatementOfReasons | None] = relationship(back_populates="action", uselist=False)


class Strike(Base):
    __tablename__ = "strikes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), index=True)
    policy: Mapped[str] = mapped_column(String(64))
    weight: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)


class StatementOfReasons(Base):
    """Art. 17 to the user (rendered from `facts` in their language) and Art. 24(5) to the
    DSA database (`payload`, exactly what the API receives)."""

    __tablename__ = "statements_of_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), unique=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    language: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    told_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    appeal_until: Mapped[datetime] = mapped_column(UTCDateTime)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    correction: Mapped[str | None] = mapped_column(Text)
    dsa_state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    dsa_uuid: Mapped[str | None] = mapped_column(String(64))
    dsa_errors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dsa_attempts: Mapped[int] = mapped_column(Integer, default=0)
    dsa_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    action: Mapped[EnforcementAction] = relationship(back_populates="statement")


class CyberTiplineReport(Base):
    """A draft report to NCMEC's CyberTipline (18 U.S.C. 2258A) for one offending account.
    Trustdesk never sends it: a person files it and records the report number."""

    __tablename__ = "cybertipline_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    filed_by: Mapped[str | None] = mapped_column(String(200))
    ncmec_report_id: Mapped[str | None] = mapped_column(String(64))

    media: Mapped[list[PreservedMedia]] = relationship(back_populates="report", order_by="PreservedMedia.id")


class PreservedMedia(Base):
    """A copy of reported media, kept for one year (18 U.S.C. 2258A(h)) even if the platform
    deletes its own."""

    __tablename__ = "cybertipline_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("cybertipline_reports.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"))
    media_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    preserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    preserve_until: Mapped[datetime] = mapped_column(UTCDateTime)

    report: Mapped[CyberTiplineReport] = relationship(back_populates="media")
