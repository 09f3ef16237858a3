"""Tables of disclosure, preservation and user notice. Rows change state but are never
deleted; every change is also an audit entry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class NoticeState(StrEnum):
    WAITING = "waiting"
    WITHHELD = "withheld"  # no date yet: a person must look again
    SENT = "sent"


class HoldState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CONVERTED = "converted"


class ExtensionState(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class DisclosureState(StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    PACKAGED = "packaged"


class Disclosure(Base):
    """One answer in preparation: the categories, accounts and period a decision allowed."""

    __tablename__ = "legal_disclosures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("legal_policy_decisions.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prepared_by_id: Mapped[int] = mapped_column(Integer)
    prepared_by: Mapped[str] = mapped_column(String(200))
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosureApproval(Base):
    """A legal officer's act on a disclosure: preparing it, approving it, or widening an
    emergency disclosure past the minimal set."""

    __tablename__ = "legal_disclosure_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("legal_disclosures.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(Integer)
    staff_name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosurePackage(Base):
    """A signed ZIP, stored in the blob store under its SHA-256, and the expiring link
    through which the requesting officer alone may fetch it (only its hash is kept)."""

    __tablename__ = "legal_disclosure_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("legal_disclosures.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    # Who it goes to: the officer who filed in the portal, or (officer None) the agency whose
    # system filed the request with its service token, which fetches it through the API.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("legal_officers.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key_id: Mapped[str] = mapped_column(String(32))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PackageDownload(Base):
    """Every attempt to fetch a package, granted or refused."""

    __tablename__ = "legal_package_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("legal_disclosure_packages.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("legal_officers.id"))
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalHold(Base):
    """A frozen snapshot of one account's data for a preservation order: later deletion on
    the platform does not reach it. Released on expiry, or converted into production."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    frozen_by: Mapped[str] = mapped_column(String(200))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted_to_request_id: Mapped[int | None] = mapped_column(ForeignKey("legal_requests.id"))
    # Per target (issue #16): the target it preserves, narrowed as the target is
    # (targets.TargetScope as JSON), the instrument family whose limit applies, and when
    # that target's continuous preservation under the family began: a fresh letter joins
    # the chain, it does not restart the clock.
    target_id: Mapped[int | None] = mapped_column(ForeignKey("legal_request_targets.id"))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    family: Mapped[str | None] = mapped_column(String(32))
    chain_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserNotice(Base):
    """Telling a user that their data was requested: waits while a non-disclosure order or
    the instrument says so, then is due, then sent."""

    __tablename__ = "legal_user_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    basis: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))


class PreservationExtension(Base):
    """The issuing authority asked for a preservation to be extended (EPOC-PR: +30 days,
    Reg. 2023/1543 Art. 11(1); 18 U.S.C. 2703(f)(2): +90 days on a renewed request), from the
    portal, its API or through staff; granted within the instrument's limit, or refused with
    the reason, and shown to the authority either way."""

    __tablename__ = "legal_preservation_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    asked_by: Mapped[str] = mapped_column(String(200))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
