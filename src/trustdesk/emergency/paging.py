"""Paging the on-call role: for emergencies (threat to life, a TCO one-hour order) and for legal
deadlines about to be missed.

One `Pager` interface with three adapters: a signed webhook (to PagerDuty, Opsgenie, a chat
relay...), e-mail through SMTP, and an in-memory one for tests and the embedded default. The
rota is the staff holding the on-call role, in order; a page goes to the first person, and when
nobody acknowledges within `escalate_after`, `escalate_due` pages the next one, going round the
rota `max_rounds` times before marking the page unanswered. Every page, escalation and
acknowledgement is a row and an audit entry.

Other domains call `page_on_call(...)`; a worker (or `trustdesk emergency escalate`) calls
`escalate_due(...)` every minute or so."""

from __future__ import annotations

import json
import logging
import smtplib
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Role
from trustdesk.core.settings import PagerKind, Settings
from trustdesk.core.signing import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from trustdesk.emergency.paging_models import Page, PageDelivery, PageState, PageUrgency

log = logging.getLogger("trustdesk.paging")

__all__ = [
    "InMemoryPager",
    "Page",
    "PageMessage",
    "PageState",
    "PageUrgency",
    "Pager",
    "PagingFailed",
    "Recipient",
    "SmtpPager",
    "WebhookPager",
    "acknowledge",
    "escalate_due",
    "next_level",
    "on_call_rota",
    "page_on_call",
]

DEFAULT_ESCALATE_AFTER = timedelta(minutes=5)
DEFAULT_MAX_ROUNDS = 3


class PagingFailed(Exception):
    """An adapter could not deliver; the delivery row records it and escalation continues."""


@dataclass(frozen=True)
class Recipient:
    username: str
    display_name: str
    email: str


@dataclass(frozen=True)
class PageMessage:
    page_id: int
    urgency: PageUrgency
    subject: str
    body: str
    level: int
    ack_url: str


class Pager(ABC):
    """Delivers one page to one person. Adapters raise `PagingFailed` when it did not go out;
    they never decide escalation, which is the same whatever the channel."""

    channel: str

    @abstractmethod
    def send(self, message: PageMessage, recipient: Recipient) -> None: ...


@dataclass
class InMemoryPager(Pager):
    """Keeps what it was asked to send; `fail_for` simulates a person whose phone is off."""

    channel: str = "memory"
    sent: list[tuple[PageMessage, Recipient]] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    def send(self, message: PageMessage, recipient: Recipient) -> None:
        if recipient.username in self.fail_for:
            raise PagingFailed(f"no route to {recipient.username}")
        self.sent.append((message, recipient))


@dataclass
class LogPager(Pager):
    """The embedded default: pages go to the log and the pages table (the console shows them),
    so `make run` needs no incident tool. Subjects only, never the body."""

    channel: str = "log"

    def send(self, message: PageMessage, recipient: Recipient) -> None:
        log.warning("PAGE %s to %s: %s", message.urgency, recipient.username, message.subject)


@dataclass
class WebhookPager(Pager):
    """POSTs a signed JSON page to one URL (an incident tool or a chat relay), retrying on
    network errors and 5xx with the same delivery id so the receiver can deduplicate."""

    url: str
    secret: bytes
    attempts: int = 3
    timeout_s: float = 5.0
    clock: Clock = field(default_factory=SystemClock)
    transport: httpx.BaseTransport | None = None
    channel: str = "webhook"

    def send(self, message: PageMessage, recipient: Recipient) -> None:
        body = json.dumps(_payload(message, recipient), sort_keys=True).encode()
        delivery = str(uuid.uuid4())
        last_error = "not attempted"
        with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
            for _ in range(self.attempts):
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(secret=self.secret, body=body, at=self.clock.now()),
                    DELIVERY_HEADER: delivery,
                }
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    last_error = type(exc).__name__
                    continue
                if response.status_code < 500:
                    if response.is_success:
                        return
                    raise PagingFailed(f"webhook refused the page: HTTP {response.status_code}")
                last_error = f"HTTP {response.status_code}"
        raise PagingFailed(f"webhook unreachable after {self.attempts} attempts: {last_error}")


@dataclass
class SmtpPager(Pager):
    """E-mail through an SMTP relay (smtplib); STARTTLS and login when configured."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0
    channel: str = "smtp"

    def send(self, message: PageMessage, recipient: Recipient) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = recipient.email
        mail["Subject"] = f"[{message.urgency.upper()}] {message.subject}"
        mail["X-Trustdesk-Page"] = str(message.page_id)
        mail.set_content(f"{message.body}\n\nAcknowledge: {message.ack_url}\n")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise PagingFailed(f"SMTP delivery failed: {type(exc).__name__}") from exc


def _payload(message: PageMessage, recipient: Recipient) -> dict[str, object]:
    return {
        "page_id": message.page_id,
        "urgency": str(message.urgency),
        "subject": message.subject,
        "body": message.body,
        "level": message.level,
        "ack_url": message.ack_url,
        "recipient": {"username": recipient.username, "email": recipient.email},
    }


def on_call_rota(session: Session) -> list[Recipient]:
    """Active staff holding the on-call role, in the order they were added (first = primary)."""
    staff = session.scalars(select(StaffUser).where(StaffUser.disabled_at.is_(None)).order_by(StaffUser.id))
    return [Recipient(username=s.username, display_name=s.display_name, email=s.email) for s in staff if Role.ON_CALL in s.roles]


def page_on_call(
    session: Session,
    *,
    pager: Pager,
    actor: Actor,
    urgency: PageUrgency,
    subject: str,
    body: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    base_url: str = "",
    clock: Clock | None = None,
) -> Page:
    """Open a page and send it to the first person on the rota."""
    if not subject.strip() or len(subject) > 200:
        raise InvalidInput("A page needs a subject of 1 to 200 characters.")
    if escalate_after <= timedelta(0) or max_rounds < 1:
        raise InvalidInput("escalate_after must be positive and max_rounds at least 1.")
    rota = on_call_rota(session)
    if not rota:
        raise Conflict("Nobody holds the on-call role: add one before paging.")
    now = (clock or SystemClock()).now()
    page = Page(
        urgency=urgency,
        subject=subject.strip(),
        body=body,
        created_by=str(actor),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        state=PageState.OPEN,
        escalate_after_s=int(escalate_after.total_seconds()),
        max_rounds=max_rounds,
        level=0,
        last_paged_at=now,
        created_at=now,
    )
    session.add(page)
    session.flush()
    record(
        session,
        actor=actor,
        action="page.open",
        object_type="page",
        object_id=page.id,
        reason=subject,
        details={"urgency": str(urgency), "about": f"{object_type}:{object_id}"},
        clock=clock,
    )
    _deliver(session, page=page, pager=pager, rota=rota, now=now, base_url=base_url)
    return page


def _deliver(session: Session, *, page: Page, pager: Pager, rota: list[Recipient], now: datetime, base_url: str) -> PageDelivery:
    recipient = rota[page.level % len(rota)]
    message = PageMessage(
        page_id=page.id,
        urgency=PageUrgency(page.urgency),
        subject=page.subject,
        body=page.body,
        level=page.level,
        ack_url=f"{base_url}/console/emergency/pages/{page.id}",
    )
    delivery = PageDelivery(
        page_id=page.id, level=page.level, recipient=recipient.username, channel=pager.channel, sent_at=now, ok=True
    )
    try:
        pager.send(message, recipient)
    except PagingFailed as exc:
        delivery.ok, delivery.error = False, str(exc)[:500]
    session.add(delivery)
    session.flush()
    return delivery


def escalate_due(session: Session, *, pager: Pager, actor: Actor, clock: Clock | None = None, base_url: str = "") -> list[Page]:
    """Page the next person for every open page left unacknowledged past its delay. A failed
    delivery counts as unanswered at once, so a dead phone does not cost the full delay."""
    now = (clock or SystemClock()).now()
    rota = on_call_rota(session)
    escalated: list[Page] = []
    for page in session.scalars(select(Page).where(Page.state == PageState.OPEN).order_by(Page.id)):
        if not rota or not _is_due(session, page=page, now=now):
            continue
        _escalate(session, page=page, pager=pager, rota=rota, now=now, actor=actor, clock=clock, base_url=base_url)
        escalated.append(page)
    return escalated


def _is_due(session: Session, *, page: Page, now: datetime) -> bool:
    last = session.scalars(select(PageDelivery).where(PageDelivery.page_id == page.id).order_by(PageDelivery.id.desc())).first()
    if last is not None and not last.ok:
        return True
    return now - page.last_paged_at >= timedelta(seconds=page.escalate_after_s)


def next_level(*, level: int, rota_size: int, max_rounds: int) -> int | None:
    """The next position in the rota (position modulo its size is the person), or None once
    every round has been paged."""
    return None if level + 1 >= max_rounds * rota_size else level + 1


def _escalate(
    session: Session,
    *,
    page: Page,
    pager: Pager,
    rota: list[Recipient],
    now: datetime,
    actor: Actor,
    clock: Clock | None,
    base_url: str,
) -> None:
    level = next_level(level=page.level, rota_size=len(rota), max_rounds=page.max_rounds)
    if level is None:
        page.state = PageState.UNANSWERED
        record(
            session,
            actor=actor,
            action="page.unanswered",
            object_type="page",
            object_id=page.id,
            reason="every round of the rota was paged",
            clock=clock,
        )
        return
    page.level = level
    page.last_paged_at = now
    delivery = _deliver(session, page=page, pager=pager, rota=rota, now=now, base_url=base_url)
    record(
        session,
        actor=actor,
        action="page.escalate",
        object_type="page",
        object_id=page.id,
        reason=f"unacknowledged; paging {delivery.recipient}",
        details={"level": page.level, "delivered": delivery.ok},
        clock=clock,
    )


def acknowledge(session: Session, *, page_id: int, actor: Actor, username: str, clock: Clock | None = None) -> Page:
    """Record that `username` has the page in hand; escalation stops."""
    page = session.get(Page, page_id)
    if page is None:
        raise NotFound(f"There is no page {page_id}.")
    if page.state == PageState.ACKNOWLEDGED:
        raise Conflict(f"Page {page_id} was already acknowledged by {page.acknowledged_by}.")
    page.state = PageState.ACKNOWLEDGED
    page.acknowledged_at = (clock or SystemClock()).now()
    page.acknowledged_by = username
    session.flush()
    record(
        session,
        actor=actor,
        action="page.acknowledge",
        object_type="page",
        object_id=page.id,
        reason=f"acknowledged by {username}",
        clock=clock,
    )
    return page


def build_pager(settings: Settings) -> Pager:
    """The adapter the `pager` setting names, checked so a half-configured one fails at start."""
    if settings.pager == PagerKind.WEBHOOK:
        if not settings.pager_webhook_url or settings.pager_webhook_secret is None:
            raise ValueError("pager = webhook needs TRUSTDESK_PAGER_WEBHOOK_URL and TRUSTDESK_PAGER_WEBHOOK_SECRET")
        return WebhookPager(url=settings.pager_webhook_url, secret=settings.pager_webhook_secret.get_secret_value().encode())
    if settings.pager == PagerKind.SMTP:
        if not settings.smtp_host:
            raise ValueError("pager = smtp needs TRUSTDESK_SMTP_HOST")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpPager(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
    return LogPager()
