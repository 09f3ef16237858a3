"""Outbound WISP calls through an outbox: a call is a row (its HI1Message built once, with its
transaction id) written in the caller's transaction; the `legal.eevidence_outbox` job sends
due rows to the identity's WISP over mutual TLS, with retries and exponential backoff.

A row is sent until WISP answers 2xx; a crash between the send and the mark resends the same
bytes, the same transaction id, so WISP sees a retry of one message, never two messages.
Every queueing, send and failure is on the audit chain.

Public entry points (keyword-only, the session first; each returns the outbox row):
`queue_outcome`, `queue_nonexecution`, `queue_datapreserved`, `queue_confirmwithdrawal`,
`queue_correspondence`, `queue_enforcingauthorityid`, `queue_authorities`; and `send_due`
(the job), `Transport` / `HttpxTransport` (the port and its mutual-TLS adapter).
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.core.identity.permissions import Principal
from trustdesk.legal.eevidence import service
from trustdesk.legal.eevidence.identities import Identities, WispIdentity
from trustdesk.legal.eevidence.models import (
    Call,
    InboundMessage,
    InboxState,
    Order,
    OrderTask,
    OutboundMessage,
    OutboxState,
    TaskState,
)
from trustdesk.legal.eevidence.wire import (
    AUTH,
    CATEGORY_TYPES,
    DELIVERY,
    DOC,
    NOTIFICATION,
    TASK,
    OutObject,
    Party,
    build_call,
    document_body,
    parse,
)

INLINE_LIMIT = 25 * 1024 * 1024  # outcome: inline up to 25 MB, by reference above (TS 104 144 as quoted publicly)
MAX_BACKOFF = timedelta(days=1)
FORM3_REASONS = frozenset(
    {
        "Incomplete",
        "ManifestErrors",
        "InsufficientInformation",
        "DataNotHeld",
        "DeFactoImpossibility",
        "InvalidIssuingAuthority",
        "OffenceNotCovered",
        "ServiceNotCovered",
        "ImmunitiesOrPrivileges",
        "ConflictOfLaw",
    }
)
CONFLICT_FIELDS = (
    "third_country_law",
    "provisions",
    "conflicting_obligation",
    "why_it_applies",
    "link_to_country",
    "consequences",
)
OUTBOUND_CORRESPONDENCE = frozenset({"RequestAdditionalInformation", "ProvideAdditionalInformation"})


def _parties(identity: WispIdentity, order: Order | None, receiver: Party | None = None) -> tuple[Party, Party]:
    if receiver is None:
        receiver = Party(*order.issuer.split(":", 1)) if order is not None else Party(identity.member_state, "WISP")
    return Party(identity.member_state, identity.receiver_id), receiver


def _queue(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    identity: WispIdentity,
    order: Order | None,
    call: Call,
    objects: list[OutObject],
    receiver: Party | None = None,
) -> OutboundMessage:
    sender, receiver = _parties(identity, order, receiver)
    transaction_id = str(uuid.uuid4())
    now = clock.now()
    body = build_call(sender=sender, receiver=receiver, transaction_id=transaction_id, timestamp=now, objects=objects)
    row = OutboundMessage(
        identity_id=identity.id,
        order_id=order.id if order else None,
        call=str(call),
        transaction_id=transaction_id,
        body=body,
        sha256=hashlib.sha256(body).hexdigest(),
        state=str(OutboxState.PENDING),
        attempts=0,
        next_attempt_at=now,
        created_by=str(actor),
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="eevidence.outbox.queue",
        object_type="eevidence_outbox",
        object_id=row.id,
        details={
            "call": str(call),
            "transaction_id": transaction_id,
            "sha256": row.sha256,
            "order_id": row.order_id,
            "identity": identity.id,
        },
        clock=clock,
    )
    return row


def _order_identity(session: Session, identities: Identities, order_id: int) -> tuple[Order, WispIdentity]:
    order = service.get_order(session, order_id=order_id)
    return order, identities.get(order.identity_id)


def _task(session: Session, order: Order, task_id: str) -> OrderTask:
    for task in service.tasks_of(session, order_id=order.id):
        if task.task_id == task_id:
            return task
    raise InvalidInput(f"Order {order.id} has no LDTask {task_id}.")


def queue_outcome(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    identities: Identities,
    order_id: int,
    task_id: str,
    content: bytes | None = None,
    content_type: str = "application/zip",
    reference_url: str | None = None,
    sha256: str | None = None,
) -> OutboundMessage:
    """The data of one task, pushed: inline up to 25 MB, by reference (a URL WISP fetches,
    resumable) above. Refused when the task's categories may not go out now
    (service.releasable_categories) or the task is cancelled."""
    order, identity = _order_identity(session, identities, order_id)
    task = _task(session, order, task_id)
    if task.state in (TaskState.CANCELLED, TaskState.RECEIVED):
        raise Conflict(f"LDTask {task_id} is {task.state}: nothing more is delivered for it.")
    allowed = service.releasable_categories(session, order=order, now=clock.now())
    blocked = sorted(set(task.categories) - allowed)
    if blocked:
        raise Conflict(
            f"LDTask {task_id}: {', '.join(blocked)} may not go out now (withdrawal, enforcing-State window or refusal)."
        )
    fields: list[tuple[str, str, str | tuple[str, str]]] = [(DELIVERY, "Reference", task.reference)]
    if content is not None and len(content) <= INLINE_LIMIT and reference_url is None:
        fields += [(DELIVERY, "DeliveryID", f"{task.task_id}-{task.deliveries + 1}"), *document_body(content, content_type)]
    elif reference_url is not None and reference_url.startswith("https://"):
        fields += [(DELIVERY, "DeliveryID", f"{task.task_id}-{task.deliveries + 1}"), (DELIVERY, "Location", reference_url)]
        if sha256:
            fields.append((DELIVERY, "Checksum", sha256))
    else:
        raise InvalidInput("Give the content (25 MB at most inline) or an https:// reference for a larger package.")
    task.state, task.deliveries = str(TaskState.DELIVERING), task.deliveries + 1
    obj = OutObject("DELIVER", "delivery:DeliveryObject", str(uuid.uuid4()), (task.task_id,), tuple(fields))
    return _queue(session, actor=actor, clock=clock, identity=identity, order=order, call=Call.OUTCOME, objects=[obj])


def queue_datapreserved(
    session: Session, *, actor: Actor, clock: Clock, identities: Identities, order_id: int, task_ids: list[str] | None = None
) -> OutboundMessage:
    """Preservation confirmed once the snapshot is frozen: each task's status becomes Preserved."""
    order, identity = _order_identity(session, identities, order_id)
    service.ensure_open(session, order)
    tasks = [t for t in service.tasks_of(session, order_id=order.id) if task_ids is None or t.task_id in task_ids]
    if not tasks:
        raise InvalidInput("Name at least one task of the order.")
    objects = []
    for task in tasks:
        task.state = str(TaskState.PRESERVED)
        objects.append(
            OutObject(
                "UPDATE",
                "task:LDTaskObject",
                task.task_id,
                (order.authorisation_id,),
                ((TASK, "Status", ("LDTaskStatus", "Preserved")),),
            )
        )
    return _queue(session, actor=actor, clock=clock, identity=identity, order=order, call=Call.DATA_PRESERVED, objects=objects)


def _form3_target(
    session: Session, identities: Identities, *, order_id: int | None, inbox_id: int | None
) -> tuple[Order | None, WispIdentity, str, Party | None, InboundMessage | None]:
    if (order_id is None) == (inbox_id is None):
        raise InvalidInput("Give the order, or the stored Form 5 that has none, not both.")
    if order_id is not None:
        order, identity = _order_identity(session, identities, order_id)
        return order, identity, order.authorisation_id, None, None
    row = session.get(InboundMessage, inbox_id)
    if row is None or row.state != InboxState.NEEDS_FORM3:
        raise Conflict("Only a stored Form 5 without its EPOC-PR is answered by its inbox id.")
    envelope = parse(row.body)
    auths = envelope.of_type("AuthorisationObject")
    auth_id = auths[0].identifier if auths else envelope.transaction_id
    return None, identities.get(row.identity_id), auth_id, envelope.sender, row


def queue_nonexecution(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    identities: Identities,
    order_id: int | None = None,
    inbox_id: int | None = None,
    reason: str,
    signed_pdf: bytes,
    explanation: str = "",
    conflict: dict[str, str] | None = None,
    categories: list[str] | None = None,
) -> OutboundMessage:
    """Form 3 (Annex III): a notification, the signed Form 3 (PDF, PAdES: signed by the caller)
    and its structured content; ConflictOfLaw needs each structured field. For an order give
    `order_id`; for a Form 5 without its EPOC-PR (no case: inbox.orphan_form5s) give its
    `inbox_id`."""
    order, identity, auth_id, receiver, orphan = _form3_target(session, identities, order_id=order_id, inbox_id=inbox_id)
    if reason not in FORM3_REASONS:
        raise InvalidInput(f"A Form 3 reason is one of {', '.join(sorted(FORM3_REASONS))}.")
    if not signed_pdf.startswith(b"%PDF"):
        raise InvalidInput("The signed Form 3 must be a PDF.")
    given = conflict or {}
    if reason == "ConflictOfLaw":
        missing = [f for f in CONFLICT_FIELDS if not given.get(f, "").strip()]
        if missing:
            raise InvalidInput(f"A conflict of law needs {', '.join(missing)}.")
    # DocumentType Form3 and the reason as the NotificationType, as the public converter of the
    # EU reference implementation's forms writes them (the WISP simulator's e2e test found it).
    props: list[tuple[str, str, str | tuple[str, str]]] = [(DOC, "DocumentType", ("EPOCDocumentType", "Form3"))]
    props += [(DOC, "NonExecutionReason", reason)]
    props += [(DOC, f"ConflictOfLaw_{k}", given[k].strip()) for k in CONFLICT_FIELDS if given.get(k)]
    props += [(DOC, "AffectedDataCategory", CATEGORY_TYPES[c]) for c in categories or [] if c in CATEGORY_TYPES]
    if explanation:
        props.append((DOC, "DocumentSummary", explanation[:10_000]))
    notification = OutObject(
        "CREATE",
        "notification:NotificationObject",
        str(uuid.uuid4()),
        (auth_id,),
        (
            (NOTIFICATION, "NotificationType", ("EPOCNotificationType", reason)),
            (NOTIFICATION, "NotificationDetails", reason),
        ),
    )
    document = OutObject(
        "CREATE",
        "doc:DocumentObject",
        str(uuid.uuid4()),
        (auth_id,),
        (*props, *document_body(signed_pdf, "application/pdf")),
    )
    if orphan is not None:
        orphan.state = str(InboxState.ANSWERED_FORM3)
    return _queue(
        session,
        actor=actor,
        clock=clock,
        identity=identity,
        order=order,
        call=Call.NON_EXECUTION,
        objects=[notification, document],
        receiver=receiver,
    )


def queue_confirmwithdrawal(
    session: Session, *, actor: Actor, clock: Clock, identities: Identities, order_id: int
) -> OutboundMessage:
    order, identity = _order_identity(session, identities, order_id)
    obj = OutObject(
        "CREATE",
        "notification:NotificationObject",
        str(uuid.uuid4()),
        (order.authorisation_id,),
        ((NOTIFICATION, "NotificationType", ("EPOCNotificationType", "ConfirmationOfWithdrawal")),),
    )
    return _queue(session, actor=actor, clock=clock, identity=identity, order=order, call=Call.CONFIRM_WITHDRAWAL, objects=[obj])


def queue_correspondence(
    session: Session, *, actor: Actor, clock: Clock, identities: Identities, order_id: int, document_type: str, text: str
) -> OutboundMessage:
    """Formal correspondence to the issuing or enforcing authority (the provider may only ask
    for or give additional information)."""
    order, identity = _order_identity(session, identities, order_id)
    if document_type not in OUTBOUND_CORRESPONDENCE:
        raise InvalidInput(f"The provider's correspondence is {' or '.join(sorted(OUTBOUND_CORRESPONDENCE))}.")
    if not text.strip() or len(text) > 10_000:
        raise InvalidInput("A message is 1 to 10,000 characters.")
    service.ensure_open(session, order)
    fields = ((DOC, "DocumentType", ("EPOCDocumentType", document_type)), *document_body(text.strip().encode(), "text/plain"))
    obj = OutObject("CREATE", "doc:DocumentObject", str(uuid.uuid4()), (order.authorisation_id,), fields)
    return _queue(session, actor=actor, clock=clock, identity=identity, order=order, call=Call.CORRESPONDENCE, objects=[obj])


def queue_enforcingauthorityid(
    session: Session, *, actor: Actor, clock: Clock, identities: Identities, order_id: int
) -> OutboundMessage:
    """Ask WISP which authority is the enforcing one for this order; the answer is kept on the row."""
    order, identity = _order_identity(session, identities, order_id)
    obj = OutObject(
        "GET", "auth:AuthorisationObject", order.authorisation_id, (), ((AUTH, "AuthorisationReference", order.authorisation_id),)
    )
    return _queue(
        session, actor=actor, clock=clock, identity=identity, order=order, call=Call.ENFORCING_AUTHORITY_ID, objects=[obj]
    )


def queue_authorities(
    session: Session, *, actor: Actor, clock: Clock, identities: Identities, identity_id: str, authority_id: str | None = None
) -> OutboundMessage:
    """List the system's courts and authorities, or get one; the answer is kept on the row."""
    identity = identities.get(identity_id)
    obj = OutObject("LIST" if authority_id is None else "GET", "doc:DocumentObject", authority_id or str(uuid.uuid4()))
    return _queue(session, actor=actor, clock=clock, identity=identity, order=None, call=Call.AUTHORITIES, objects=[obj])


# ----------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Sent:
    status: int
    body: bytes


class Transport(ABC):
    """Posts one message to one identity's WISP. Raises on a transport failure."""

    @abstractmethod
    def post(self, identity: WispIdentity, call: str, body: bytes) -> Sent: ...


class HttpxTransport(Transport):
    """httpx over mutual TLS: the identity's own certificate and key, the WISP's CA."""

    def __init__(self, *, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self._clients: dict[str, httpx.Client] = {}

    def _client(self, identity: WispIdentity) -> httpx.Client:
        if identity.id not in self._clients:
            context = ssl.create_default_context(cafile=str(identity.wisp_ca_file) if identity.wisp_ca_file else None)
            if identity.client_cert_file and identity.client_key_file:
                context.load_cert_chain(str(identity.client_cert_file), str(identity.client_key_file))
            self._clients[identity.id] = httpx.Client(verify=context, timeout=self.timeout_s)
        return self._clients[identity.id]

    def post(self, identity: WispIdentity, call: str, body: bytes) -> Sent:
        response = self._client(identity).post(
            f"{identity.wisp_base_url}/{call}", content=body, headers={"Content-Type": "application/xml"}
        )
        return Sent(response.status_code, response.content[:1_000_000])

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def backoff(attempts: int, *, first_s: float) -> timedelta:
    """30 s, 60 s, 120 s, ... at most a day."""
    return min(timedelta(seconds=first_s * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_due(
    db: Database,
    *,
    identities: Identities,
    transport: Transport,
    clock: Clock,
    max_attempts: int,
    first_backoff_s: float,
    limit: int = 100,
) -> list[int]:
    """Send every due row, each attempt recorded in its own transaction; returns the ids sent."""
    with db.read() as session:
        due = list(
            session.scalars(
                select(OutboundMessage.id)
                .where(OutboundMessage.state == str(OutboxState.PENDING), OutboundMessage.next_attempt_at <= clock.now())
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
                .limit(limit)
            )
        )
    sent = []
    for row_id in due:
        if _send_one(
            db,
            row_id,
            identities=identities,
            transport=transport,
            clock=clock,
            max_attempts=max_attempts,
            first_backoff_s=first_backoff_s,
        ):
            sent.append(row_id)
    return sent


def _send_one(
    db: Database,
    row_id: int,
    *,
    identities: Identities,
    transport: Transport,
    clock: Clock,
    max_attempts: int,
    first_backoff_s: float,
) -> bool:
    with db.read() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        identity_id, call, body = row.identity_id, row.call, row.body
    error, result = None, None
    try:
        result = transport.post(identities.get(identity_id), call, body)
        if not 200 <= result.status < 300:
            error = f"WISP answered {result.status}: {result.body[:300].decode('utf-8', 'replace')}"
    except Exception as exc:  # the network, TLS, an unknown identity: all are retried
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    with db.transaction() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        _mark(session, row, result=result, error=error, clock=clock, max_attempts=max_attempts, first_backoff_s=first_backoff_s)
    return error is None


def _mark(
    session: Session,
    row: OutboundMessage,
    *,
    result: Sent | None,
    error: str | None,
    clock: Clock,
    max_attempts: int,
    first_backoff_s: float,
) -> None:
    now: datetime = clock.now()
    row.attempts += 1
    if result is not None:
        row.response_status, row.response = result.status, result.body
    if error is None:
        row.state, row.sent_at, row.last_error = str(OutboxState.SENT), now, None
        action = "eevidence.outbox.sent"
    else:
        row.last_error = error
        if row.attempts >= max_attempts:
            row.state, action = str(OutboxState.DEAD), "eevidence.outbox.dead"
        else:
            row.next_attempt_at, action = now + backoff(row.attempts, first_s=first_backoff_s), "eevidence.outbox.retry"
    audit.record(
        session,
        actor=service.WISP_ACTOR,
        action=action,
        object_type="eevidence_outbox",
        object_id=row.id,
        reason=error,
        details={"call": row.call, "transaction_id": row.transaction_id, "attempts": row.attempts, "status": row.response_status},
        clock=clock,
    )


def resend(session: Session, *, actor: Actor, clock: Clock, outbox_id: int) -> OutboundMessage:
    """A person sends a dead row again (the same bytes and transaction id)."""
    row = session.get(OutboundMessage, outbox_id)
    if row is None or row.state != OutboxState.DEAD:
        raise Conflict("Only a dead outbound message is sent again.")
    row.state, row.next_attempt_at, row.attempts = str(OutboxState.PENDING), clock.now(), 0
    audit.record(
        session, actor=actor, action="eevidence.outbox.resend", object_type="eevidence_outbox", object_id=row.id, clock=clock
    )
    return row


def confirm_withdrawal(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, identities: Identities, order_id: int, reason: str
) -> OutboundMessage:
    """A person confirms the issuing authority's withdrawal (service.confirm_withdrawal: the
    order's open tasks cancelled, the case withdrawn) and `confirmwithdrawal` is queued."""
    service.confirm_withdrawal(session, actor=actor, clock=clock, principal=principal, order_id=order_id, reason=reason)
    return queue_confirmwithdrawal(session, actor=actor, clock=clock, identities=identities, order_id=order_id)
