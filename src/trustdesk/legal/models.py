"""Tables of the lawful-request domain. Rows are never deleted; state changes are new rows
(transitions, call-backs, alerts) plus audit entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class OfficerState(StrEnum):
    PENDING = "pending"  # registered, not yet confirmed by staff: cannot sign in
    VERIFIED = "verified"
    BLOCKED = "blocked"  # known or suspected compromised: cannot sign in or file


class RequestState(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    CLARIFICATION_REQUESTED = "clarification_requested"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PARTLY_ANSWERED = "partly_answered"
    ANSWERED = "answered"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class Agency(Base):
    """A registered authority. `callback_phone` comes from an official source (named in
    `callback_source`), never from a request: it is the number staff call to confirm one."""

    __tablename__ = "legal_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("legal_agencies.id"))
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    callback_phone: Mapped[str] = mapped_column(String(32))
    callback_source: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # False for an agency staff recorded from a request that came by post or e-mail before it
    # was in the registry: it has no official call-back number yet, so its requests stay held
    # until a person verifies it (`registry.verify_agency`).
    verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Officer(Base):
    """A named person at an agency who signs in to the portal with a second factor."""

    __tablename__ = "legal_officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    supervisor: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a staff call-back first confirmed a request from this officer.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class PortalSession(Base):
    __tablename__ = "legal_portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("legal_officers.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LawfulRequest(Base):
    """One order from one authority, with its checks and its clock as structured data."""

    __tablename__ = "legal_requests"
    # The queue's order (legal/service.py QUEUE_ORDER: time left first, no deadline last) from an
    # index on PostgreSQL, which matches the expression to the bound NO_DEADLINE (migration
    # 0002_console_requests_due_order); SQLite matches expression indexes to literals only.
    __table_args__ = (
        Index(
            "ix_legal_requests_queue_due_order",
            text("coalesce(due_at, '9999-12-31 00:00:00+00'::timestamptz)"),
            "received_at",
            "id",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("legal_officers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    instrument: Mapped[str] = mapped_column(String(40), index=True)
    catalogue_version: Mapped[str] = mapped_column(String(40))
    issuer_kind: Mapped[str] = mapped_column(String(32))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    elements: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enforcing_state_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    # The facts the enforcing-state rule is computed from (Reg. 2023/1543 Art. 8): ISO 3166-1
    # alpha-2 codes, or "unknown"; None where the order was filed before they were asked.
    person_country: Mapped[str | None] = mapped_column(String(8))
    offence_country: Mapped[str | None] = mapped_column(String(8))
    # The Member State notified (Art. 3: where the establishment that received the order is),
    # and its answer (EnforcingStateAnswerKind), or None while it may still object.
    enforcing_state: Mapped[str | None] = mapped_column(String(2))
    enforcing_state_answer: Mapped[str | None] = mapped_column(String(24))
    enforcing_state_refused: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The accepted language the authority supplied the core elements in, for an order whose
    # own language the provider does not accept (DSA Arts. 9(2)(c), 10(2)(c)).
    translated_to: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    elements_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    objection_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_statutory: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which deadline `due_at` is (clocks.DeadlineSource), and the law's own beside it.
    deadline_source: Mapped[str] = mapped_column(String(16), default="statutory", server_default="statutory")
    statutory_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    verdict: Mapped[str] = mapped_column(String(16))
    callback_required: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    submission_sha256: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(200))

    @property
    def held(self) -> bool:
        """Held for a call-back: nothing moves until staff confirm by telephone."""
        return self.callback_required and self.callback_confirmed_at is None


class RequestTarget(Base):
    __tablename__ = "legal_request_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    raw: Mapped[str] = mapped_column(String(500))
    normalised: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    # What narrows the target (targets.TargetScope): one chat, and the target's own window
    # within the order's period. A message target is that message alone.
    chat_id: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestAttachment(Base):
    """A file the authority sent. The bytes live once, content-addressed, under the data
    directory; the row says who sent which file under which name."""

    __tablename__ = "legal_request_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestMessage(Base):
    __tablename__ = "legal_request_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    from_authority: Mapped[bool] = mapped_column(Boolean)
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestTransition(Base):
    __tablename__ = "legal_request_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Callback(Base):
    """An out-of-band telephone confirmation, always to the registry's number."""

    __tablename__ = "legal_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    number_called: Mapped[str] = mapped_column(String(32))
    spoke_to: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadlineAlert(Base):
    """An alert to the on-call role: raised once per request, kind and deadline."""

    __tablename__ = "legal_deadline_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "preservation_expiring" is 21 characters
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    role: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300))
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class EnforcingStateAnswerKind(StrEnum):
    """What the enforcing State said (WISP `groundsforrefusal`), or that it said nothing in
    time: LAPSED is never read as NO_GROUNDS (Arts. 8 and 10(2) of Reg. 2023/1543)."""

    NO_GROUNDS = "no_grounds"
    PARTIAL_GROUNDS = "partial_grounds"  # grounds for some categories, named with the answer
    FULL_GROUNDS = "full_grounds"
    LAPSED = "lapsed"


class EnforcingStateAnswer(Base):
    """One answer of the notified enforcing State on one order, by whoever recorded it."""

    __tablename__ = "legal_enforcing_state_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), index=True)
    state: Mapped[str] = mapped_column(String(2))
    answer: Mapped[str] = mapped_column(String(24))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    via: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
