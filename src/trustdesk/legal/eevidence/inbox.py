"""Inbound WISP messages: parsed, stored as received, then processed, each step committed on
its own, so that nothing accepted is lost.

1. `parse` (wire.py): a message that is not a valid HI-1 message is refused (and audited);
   nothing is stored, nothing changes.
2. Stored: the bytes, their SHA-256, the identity, the endpoint and the time, in their own
   committed transaction, unique by (identity, transaction id). The same transaction id with
   the same bytes is a retry: it gets the stored answer and never makes a second case; with
   other bytes it is refused (409).
3. Processed in a second transaction (the case changes happen here). A processing failure
   leaves the stored message `received`; the `legal.eevidence_inbox` job processes it again.
   A message that asks for what cannot be (no such order, a withdrawn order) is answered
   with a problem and stored as `refused`: it changes nothing else.

Public entry points: `receive(db, *, ctx, identity, endpoint, body) -> Answer`,
`retry_pending(db, *, ctx, identities)`, `timeline(session, *, order_id)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.database import Database
from trustdesk.core.errors import NotFound, TrustdeskError
from trustdesk.legal.eevidence import service, wire
from trustdesk.legal.eevidence.identities import WispIdentity
from trustdesk.legal.eevidence.models import Endpoint, InboundMessage, InboxState, Order, OutboundMessage
from trustdesk.legal.eevidence.service import Context

PROBLEM_BASE = "https://trustdesk.invalid/problems/eevidence/"
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str


class Form5WithoutPreservation(TrustdeskError):
    status, type_slug, title = 422, "no-linked-epoc-pr", "No EPOC-PR matches LinkedEPOCPRTransactionId"


def problem(*, status: int, code: str, title: str, detail: str, endpoint: str, transaction_id: str | None) -> Answer:
    """RFC 9457 problem details with the transaction id (docs/e-evidence.md says why not an
    HI-1 error payload)."""
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "endpoint": endpoint,
        "transaction_id": transaction_id,
    }
    return Answer(status, json.dumps(body).encode(), "application/problem+json")


def _sender(envelope: wire.Envelope) -> str:
    return f"{envelope.sender.country}:{envelope.sender.unique_id}"[:220]


def receive(db: Database, *, ctx: Context, identity: WispIdentity, endpoint: Endpoint, body: bytes) -> Answer:
    """One inbound message, from bytes to answer."""
    try:
        envelope = wire.parse(body)
        if envelope.receiver.unique_id != identity.receiver_id:
            raise wire.WireError(
                "receiver",
                f"The message is addressed to {envelope.receiver.unique_id}; this connection is identity {identity.id} ({identity.receiver_id}).",
                transaction_id=envelope.transaction_id,
            )
    except wire.WireError as exc:
        _audit_refusal(db, ctx=ctx, identity=identity, endpoint=endpoint, body=body, error=exc)
        return problem(
            status=422 if exc.code != "doctype" else 400,
            code=exc.code,
            title="Not a valid HI-1 message",
            detail=exc.detail,
            endpoint=str(endpoint),
            transaction_id=exc.transaction_id,
        )
    stored = _store(db, ctx=ctx, identity=identity, endpoint=endpoint, body=body, envelope=envelope)
    if isinstance(stored, Answer):
        return stored
    return process(db, ctx=ctx, inbox_id=stored)


def _audit_refusal(
    db: Database, *, ctx: Context, identity: WispIdentity, endpoint: Endpoint, body: bytes, error: wire.WireError
) -> None:
    with db.transaction() as session:
        audit.record(
            session,
            actor=ctx.actor,
            action="eevidence.inbox.refuse",
            object_type="eevidence_inbox",
            reason=error.detail[:500],
            details={
                "identity": identity.id,
                "endpoint": str(endpoint),
                "code": error.code,
                "transaction_id": error.transaction_id,
                "sha256": hashlib.sha256(body).hexdigest(),
                "size": len(body),
            },
            clock=ctx.clock,
        )


def _store(
    db: Database, *, ctx: Context, identity: WispIdentity, endpoint: Endpoint, body: bytes, envelope: wire.Envelope
) -> int | Answer:
    """The row id of a message to process, or the answer to a retry."""
    sha = hashlib.sha256(body).hexdigest()
    try:
        with db.transaction() as session:
            existing = _existing(session, identity.id, envelope.transaction_id)
            if existing is None:
                row = InboundMessage(
                    identity_id=identity.id,
                    endpoint=str(endpoint),
                    transaction_id=envelope.transaction_id,
                    sender=_sender(envelope),
                    body=body,
                    sha256=sha,
                    size=len(body),
                    received_at=ctx.clock.now(),
                    state=str(InboxState.RECEIVED),
                    attempts=0,
                )
                session.add(row)
                session.flush()
                audit.record(
                    session,
                    actor=ctx.actor,
                    action="eevidence.inbox.receive",
                    object_type="eevidence_inbox",
                    object_id=row.id,
                    details={
                        "identity": identity.id,
                        "endpoint": str(endpoint),
                        "transaction_id": envelope.transaction_id,
                        "sha256": sha,
                        "size": len(body),
                    },
                    clock=ctx.clock,
                )
                return row.id
    except IntegrityError:  # the same message at the same moment on another connection
        pass
    with db.read() as session:
        existing = _existing(session, identity.id, envelope.transaction_id)
        assert existing is not None
        return _replay(existing, sha=sha, endpoint=endpoint)


def _existing(session: Session, identity_id: str, transaction_id: str) -> InboundMessage | None:
    return session.scalar(
        select(InboundMessage).where(InboundMessage.identity_id == identity_id, InboundMessage.transaction_id == transaction_id)
    )


def _replay(existing: InboundMessage, *, sha: str, endpoint: Endpoint) -> int | Answer:
    if existing.sha256 != sha or existing.endpoint != endpoint:
        return problem(
            status=409,
            code="transaction-reused",
            title="Transaction id already used",
            detail=f"Transaction {existing.transaction_id} was received on {existing.received_at:%Y-%m-%d %H:%M:%S} UTC with other content or on another endpoint.",
            endpoint=str(endpoint),
            transaction_id=existing.transaction_id,
        )
    if existing.answer_status is not None and existing.answer is not None:
        return Answer(existing.answer_status, existing.answer, existing.answer_type or "application/xml")
    return existing.id  # stored but not yet processed: process it now


def process(db: Database, *, ctx: Context, inbox_id: int) -> Answer:
    """Process one stored message; idempotent (a processed one returns its stored answer)."""
    try:
        with db.transaction() as session:
            row = session.get(InboundMessage, inbox_id, with_for_update=not db.is_sqlite)
            assert row is not None
            if row.answer_status is not None and row.answer is not None:
                return Answer(row.answer_status, row.answer, row.answer_type or "application/xml")
            answer = _handle(session, ctx=ctx, row=row)
            row.answer_status, row.answer, row.answer_type = answer.status, answer.body, answer.media_type
            row.processed_at = ctx.clock.now()
            return answer
    except Exception as exc:  # stored and committed before: the job retries it
        with db.transaction() as session:
            row = session.get(InboundMessage, inbox_id)
            assert row is not None
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {str(exc)[:500]}"
            audit.record(
                session,
                actor=ctx.actor,
                action="eevidence.inbox.failed",
                object_type="eevidence_inbox",
                object_id=row.id,
                reason=row.last_error,
                details={"attempts": row.attempts},
                clock=ctx.clock,
            )
            transaction_id = row.transaction_id
        return problem(
            status=202,
            code="stored-processing-deferred",
            title="Stored; processing will be retried",
            detail="The message is stored and will be processed again shortly; it is not lost.",
            endpoint="",
            transaction_id=transaction_id,
        )


def _handle(session: Session, *, ctx: Context, row: InboundMessage) -> Answer:
    """Run the endpoint's handler in a savepoint: a refusal undoes its changes and is stored as
    the answer; an unexpected error propagates (the message stays `received`)."""
    envelope = wire.parse(row.body)
    endpoint = Endpoint(row.endpoint)
    identity_id = row.identity_id
    try:
        with session.begin_nested():
            order = HANDLERS[endpoint](session, ctx, identity_id, envelope)
    except Form5WithoutPreservation as exc:
        row.state = str(InboxState.NEEDS_FORM3)
        return _refusal(session, ctx, row, exc.status, exc.type_slug, exc.title, exc.detail, envelope.transaction_id)
    except wire.WireError as exc:
        row.state = str(InboxState.REFUSED)
        return _refusal(
            session, ctx, row, 422, exc.code, "Not a valid message for this endpoint", exc.detail, envelope.transaction_id
        )
    except TrustdeskError as exc:
        row.state = str(InboxState.REFUSED)
        return _refusal(session, ctx, row, exc.status, exc.type_slug, exc.title, exc.detail, envelope.transaction_id)
    row.state, row.order_id = str(InboxState.PROCESSED), order.id if order is not None else None
    audit.record(
        session,
        actor=ctx.actor,
        action="eevidence.inbox.process",
        object_type="eevidence_inbox",
        object_id=row.id,
        details={"endpoint": row.endpoint, "order_id": row.order_id},
        clock=ctx.clock,
    )
    return Answer(200, wire.build_ack(envelope=envelope, timestamp=ctx.clock.now()), "application/xml")


def _refusal(
    session: Session, ctx: Context, row: InboundMessage, status: int, code: str, title: str, detail: str, transaction_id: str
) -> Answer:
    audit.record(
        session,
        actor=ctx.actor,
        action="eevidence.inbox.refuse",
        object_type="eevidence_inbox",
        object_id=row.id,
        reason=detail[:500],
        details={"endpoint": row.endpoint, "code": code},
        clock=ctx.clock,
    )
    return problem(status=status, code=code, title=title, detail=detail, endpoint=row.endpoint, transaction_id=transaction_id)


# ---------------------------------------------------------------------------- handlers

Handler = Callable[[Session, Context, str, wire.Envelope], Order | None]


def _identity(ctx: Context, identity_id: str) -> WispIdentity:
    assert ctx.identities is not None
    return ctx.identities.get(identity_id)


def _new_order(session: Session, ctx: Context, identity_id: str, env: wire.Envelope, *, legal_type: str, form: str) -> Order:
    """Form 1 (an EPOC) or Form 2 (an EPOC-PR): a new case through the one intake."""
    order = wire.read_order(env, legal_types=[legal_type])  # the form is read first, as before the identity
    return service.create_order(
        session,
        ctx=ctx,
        identity=_identity(ctx, identity_id),
        sender=env.sender,
        transaction_id=env.transaction_id,
        form=form,
        order=order,
    )


def _production(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    return _new_order(session, ctx, identity_id, env, legal_type="EPOC", form="form1")


def _preservation(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    return _new_order(session, ctx, identity_id, env, legal_type="EPOC-PR", form="form2")


def _subsequent(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    form = wire.read_order(env, legal_types=["EPOC"])
    linked_tx = form.linked_epoc_pr_transaction_id
    linked = (
        session.scalar(
            select(Order).where(Order.identity_id == identity_id, Order.transaction_id == linked_tx, Order.form == "form2")
        )
        if linked_tx
        else None
    )
    if linked is None:
        raise Form5WithoutPreservation(
            f"No EPOC-PR received by this identity has transaction id {linked_tx or '(none given)'}; the provider answers with Form 3."
        )
    service.ensure_open(session, linked)
    return service.create_order(
        session,
        ctx=ctx,
        identity=_identity(ctx, identity_id),
        sender=env.sender,
        transaction_id=env.transaction_id,
        form="form5",
        order=form,
        linked=linked,
    )


def _order(session: Session, identity_id: str, env: wire.Envelope) -> Order:
    return service.find_by_authorisation(session, identity_id=identity_id, authorisation_id=wire.read_reference(env))


def _grounds(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    decision, refused, _ = wire.read_decision(env)
    order = _order(session, identity_id, env)
    service.record_decision(session, ctx=ctx, order=order, decision=decision, refused=refused)
    return order


def _extension(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    order = _order(session, identity_id, env)
    service.extend_preservation(session, ctx=ctx, order=order)
    return order


def _end(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    order = _order(session, identity_id, env)
    service.end_preservation(session, ctx=ctx, order=order)
    return order


def _deadline(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    due = wire.read_new_deadline(env)
    order = _order(session, identity_id, env)
    service.set_new_deadline(session, ctx=ctx, order=order, due_at=due)
    return order


def _withdraw(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    order = _order(session, identity_id, env)
    service.request_withdrawal(session, ctx=ctx, order=order)
    return order


def _delivery(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order | None:
    order_id = None
    for task_id, status, details in wire.read_delivery_statuses(env):
        order_id = service.record_delivery_status(
            session, ctx=ctx, identity_id=identity_id, task_id=task_id, status=status, details=details
        ).order_id
    return session.get(Order, order_id) if order_id else None


def _correspondence(session: Session, ctx: Context, identity_id: str, env: wire.Envelope) -> Order:
    doc = wire.read_document(env)
    if not doc.associated:
        raise NotFound("The correspondence names no order (no AssociatedObject).")
    order = service.find_by_authorisation(session, identity_id=identity_id, authorisation_id=doc.associated[0])
    service.record_correspondence(
        session, ctx=ctx, order=order, document_type=doc.document_type or "Correspondence", body=doc.body, author=_sender(env)
    )
    return order


HANDLERS: dict[Endpoint, Handler] = {
    Endpoint.PRODUCTION: _production,
    Endpoint.PRESERVATION: _preservation,
    Endpoint.SUBSEQUENT_PRODUCTION: _subsequent,
    Endpoint.GROUNDS_FOR_REFUSAL: _grounds,
    Endpoint.PRESERVATION_EXTENSION: _extension,
    Endpoint.END_PRESERVATION: _end,
    Endpoint.NEW_DEADLINE: _deadline,
    Endpoint.WITHDRAW: _withdraw,
    Endpoint.DELIVERY_STATUS: _delivery,
    Endpoint.CORRESPONDENCE: _correspondence,
}


# ------------------------------------------------------------------------------ the job


def retry_pending(db: Database, *, ctx: Context, limit: int = 100) -> int:
    """Process again every stored message whose processing failed (or was cut short)."""
    with db.read() as session:
        ids = list(
            session.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.state == str(InboxState.RECEIVED), InboundMessage.attempts < MAX_ATTEMPTS)
                .order_by(InboundMessage.id)
                .limit(limit)
            )
        )
    for inbox_id in ids:
        process(db, ctx=ctx, inbox_id=inbox_id)
    return len(ids)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    direction: str  # "in" | "out"
    kind: str  # the endpoint or the call
    transaction_id: str
    state: str
    id: int


def timeline(session: Session, *, order_id: int) -> list[TimelineEntry]:
    """Every message of one order, both ways, oldest first (a Form 5's and its EPOC-PR's apart)."""
    inbound = session.scalars(select(InboundMessage).where(InboundMessage.order_id == order_id))
    outbound = session.scalars(select(OutboundMessage).where(OutboundMessage.order_id == order_id))
    entries = [TimelineEntry(m.received_at, "in", m.endpoint, m.transaction_id, m.state, m.id) for m in inbound]
    entries += [TimelineEntry(m.created_at, "out", m.call, m.transaction_id, m.state, m.id) for m in outbound]
    return sorted(entries, key=lambda e: (e.at, e.direction, e.id))


def orphan_form5s(session: Session, *, identity_id: str | None = None) -> list[InboundMessage]:
    """Form 5 messages without their EPOC-PR, waiting for a Form 3 answer."""
    query = select(InboundMessage).where(InboundMessage.state == str(InboxState.NEEDS_FORM3))
    if identity_id is not None:
        query = query.where(or_(InboundMessage.identity_id == identity_id))
    return list(session.scalars(query.order_by(InboundMessage.id)))
