"""The pagers that reach a person: a signed webhook (to PagerDuty, Opsgenie, a chat relay...)
and e-mail through SMTP; and `build_pager`, which picks the one the `pager` setting names
(docs/paging.md lists each adapter's settings)."""

from __future__ import annotations

import json
import smtplib
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx

from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.paging.port import PageMessage, Pager, PagingFailed, Recipient
from trustdesk.core.paging.twins import LogPager
from trustdesk.core.settings import PagerKind, Settings
from trustdesk.core.signing import DELIVERY_HEADER, SIGNATURE_HEADER, sign


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
