"""Tables of the policy: the policy documents decisions were made under, and the decisions.

A decision row is never updated: proposing again writes a new row, so a past decision
always reads as it was made, with the policy text (by version and SHA-256) and the country
profile version that made it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class PolicyDocument(Base):
    """The exact text of every policy version that decided something."""

    __tablename__ = "legal_policy_documents"
    __table_args__ = (UniqueConstraint("version", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyDecision(Base):
    """What the policy proposed for one request, with its reasons, and who adopted it."""

    __tablename__ = "legal_policy_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    widenable: Mapped[list[str]] = mapped_column(JSON, default=list)
    accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    refusal_reason: Mapped[str | None] = mapped_column(String(32))
    extra_reviews: Mapped[int] = mapped_column(Integer, default=0)
    callback_required: Mapped[bool] = mapped_column(default=False)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    narrowed: Mapped[bool] = mapped_column(default=False)
    not_held: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Every ground the engine weighed, each with its own verdict, not only the deciding one.
    grounds: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The facts the engine read, so that a dry-run can replay them without the platform.
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy_document_id: Mapped[int] = mapped_column(ForeignKey("legal_policy_documents.id"))
    policy_version: Mapped[str] = mapped_column(String(40))
    jurisdictions_version: Mapped[str] = mapped_column(String(80))
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
