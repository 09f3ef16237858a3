"""Tables of the e-Evidence channel. The case itself is a `LawfulRequest` of the legal room
(instrument eu_epoc or eu_epoc_pr); these rows hold only what the channel adds: the messages
as received and sent, the order's WISP identifiers, its tasks, the enforcing State's
decision and the withdrawal. Rows are never deleted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class Endpoint(StrEnum):
    """The ten calls the provider hosts (TS 104 144, as public provider material lists them)."""

    PRODUCTION = "production"
    PRESERVATION = "preservation"
    GROUNDS_FOR_REFUSAL = "groundsforrefusal"
    SUBSEQUENT_PRODUCTION = "subsequentproduction"
    PRESERVATION_EXTENSION = "preservationextension"
    END_PRESERVATION = "endpreservation"
    NEW_DEADLINE = "newdeadline"
    WITHDRAW = "withdraw"
    DELIVERY_STATUS = "deliverystatus"
    CORRESPONDENCE = "correspondence"


class Call(StrEnum):
    """The seven calls the provider makes on WISP."""

    OUTCOME = "outcome"
    NON_EXECUTION = "nonexecution"
    DATA_PRESERVED = "datapreserved"
    CONFIRM_WITHDRAWAL = "confirmwithdrawal"
    CORRESPONDENCE = "correspondence"
    ENFORCING_AUTHORITY_ID = "enforcingauthorityId"
    AUTHORITIES = "authorities"


class InboxState(StrEnum):
    RECEIVED = "received"  # stored, not yet processed (or processing failed: the job retries it)
    PROCESSED = "processed"
    REFUSED = "refused"  # processed: the message asked for something that cannot be (its answer says why)
    NEEDS_FORM3 = "needs_form3"  # a Form 5 without its EPOC-PR: to be answered with Form 3
    ANSWERED_FORM3 = "answered_form3"  # ... and so answered (outbox.queue_nonexecution(inbox_id=...))


class EaState(StrEnum):
    """The enforcing State's part (Arts. 8, 10(2), 12)."""

    NOT_NOTIFIED = "not_notified"
    WINDOW = "window"  # notified, the window runs, no decision yet
    FULL = "full"  # FullGroundsForRefusal: nothing goes out
    PARTIAL = "partial"  # PartialGroundsForRefusal: the refused categories do not go out
    NO_GROUNDS = "no_grounds"  # NoGroundsForRefusal: released at once
    LAPSED = "lapsed"  # the window ended without a decision: never recorded as cleared


class Withdrawal(StrEnum):
    NONE = "none"
    REQUESTED = "requested"  # the issuing authority withdrew; a person must confirm
    CONFIRMED = "confirmed"


class TaskState(StrEnum):
    OPEN = "open"
    PRESERVED = "preserved"
    DELIVERING = "delivering"  # an outcome is queued or sent
    RECEIVED = "received"  # the issuing authority acknowledged the delivery
    DELIVERY_ERROR = "delivery_error"  # it reported an error: deliver again
    CANCELLED = "cancelled"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # out of attempts: on-call is told, a person resends


class InboundMessage(Base):
    __tablename__ = "eevidence_inbox"
    __table_args__ = (UniqueConstraint("identity_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[str] = mapped_column(String(40), index=True)
    endpoint: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(220))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("eevidence_orders.id"), index=True)
    answer_status: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    answer_type: Mapped[str | None] = mapped_column(String(64))


class Order(Base):
    """What the channel knows of one EPOC or EPOC-PR; the case is `request_id`."""

    __tablename__ = "eevidence_orders"
    __table_args__ = (UniqueConstraint("identity_id", "authorisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id"), unique=True)
    identity_id: Mapped[str] = mapped_column(String(40), index=True)
    transaction_id: Mapped[str] = mapped_column(String(200), index=True)
    authorisation_id: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(220))  # the sender: Member State and authority id
    form: Mapped[str] = mapped_column(String(8))  # form1 | form2 | form5
    priority: Mapped[str | None] = mapped_column(String(24))
    linked_order_id: Mapped[int | None] = mapped_column(ForeignKey("eevidence_orders.id"))
    ea_state: Mapped[str] = mapped_column(String(16))
    ea_window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    ea_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    ea_lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the deadline the stopped clock kept
    withdrawal: Mapped[str] = mapped_column(String(16))
    withdrawal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preservation_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subsequent_production: Mapped[bool] = mapped_column(Boolean, default=False)  # a Form 5 holds its data
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderTask(Base):
    __tablename__ = "eevidence_tasks"
    __table_args__ = (UniqueConstraint("order_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("eevidence_orders.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(500))


class OutboundMessage(Base):
    __tablename__ = "eevidence_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[str] = mapped_column(String(40), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("eevidence_orders.id"), index=True)
    call: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
