"""Every pager held to the contract (contract.py): the in-memory twin, the log, the webhook
pager against a real HTTP receiver and the SMTP pager against a real SMTP server, both on
loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from email.message import Message

import pytest

from tests.core.paging.contract import ALICE, MESSAGE, Delivered, PagerContract
from tests.core.paging.servers import SmtpInbox, WebhookReceiver, smtp_server, webhook_receiver
from trustdesk.core.clock import FrozenClock
from trustdesk.core.paging import InMemoryPager, LogPager, Recipient, SmtpPager, WebhookPager

SECRET = b"pager-test-secret"


class TestInMemoryPager(PagerContract):
    @pytest.fixture
    def pager(self) -> InMemoryPager:
        return InMemoryPager()

    @pytest.fixture
    def delivered(self, pager: InMemoryPager) -> Callable[[], list[Delivered]]:
        def read() -> list[Delivered]:
            return [
                Delivered(to=r.username, urgency=m.urgency, subject=m.subject, page_id=m.page_id, body=m.body, ack_url=m.ack_url)
                for m, r in pager.sent
            ]

        return read

    @pytest.fixture
    def refuse(self, pager: InMemoryPager) -> Callable[[], None]:
        return lambda: pager.fail_for.update({"alice", "bob"})


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class TestLogPager(PagerContract):
    carries_the_page = False  # subjects only, never the body

    @pytest.fixture
    def pager(self) -> LogPager:
        return LogPager()

    @pytest.fixture
    def log(self) -> Iterator[_Records]:
        handler, logger = _Records(), logging.getLogger("trustdesk.paging")
        logger.addHandler(handler)
        yield handler
        logger.removeHandler(handler)

    @pytest.fixture
    def delivered(self, log: _Records) -> Callable[[], list[Delivered]]:
        def read() -> list[Delivered]:
            rows = []
            for record in log.records:
                urgency, username, subject = (str(arg) for arg in record.args or ())
                rows.append(Delivered(to=username, urgency=urgency, subject=subject, page_id=None, body=None, ack_url=None))
            return rows

        return read

    @pytest.fixture
    def refuse(self) -> Callable[[], None]:
        pytest.skip("the log never refuses a page")

    def test_the_log_line_never_holds_the_body(self, pager: LogPager, log: _Records) -> None:
        pager.send(MESSAGE, ALICE)
        (record,) = log.records
        assert record.getMessage() == "PAGE emergency to alice: TCO order 12" and MESSAGE.body not in record.getMessage()


class TestWebhookPager(PagerContract):
    @pytest.fixture
    def receiver(self) -> Iterator[WebhookReceiver]:
        with webhook_receiver() as receiver:
            yield receiver

    @pytest.fixture
    def pager(self, receiver: WebhookReceiver, clock: FrozenClock) -> WebhookPager:
        return WebhookPager(url=receiver.url, secret=SECRET, clock=clock)

    @pytest.fixture
    def delivered(self, receiver: WebhookReceiver) -> Callable[[], list[Delivered]]:
        def read() -> list[Delivered]:
            pages = [json.loads(r.body) for r in receiver.received if 200 <= r.status < 300]
            return [
                Delivered(
                    to=p["recipient"]["username"],
                    urgency=p["urgency"],
                    subject=p["subject"],
                    page_id=p["page_id"],
                    body=p["body"],
                    ack_url=p["ack_url"],
                )
                for p in pages
            ]

        return read

    @pytest.fixture
    def refuse(self, receiver: WebhookReceiver) -> Callable[[], None]:
        def refuse() -> None:
            receiver.status = 503

        return refuse


class TestSmtpPager(PagerContract):
    def address_of(self, recipient: Recipient) -> str:
        return recipient.email

    @pytest.fixture
    def inbox(self) -> Iterator[tuple[SmtpInbox, int]]:
        with smtp_server() as inbox:
            yield inbox

    @pytest.fixture
    def pager(self, inbox: tuple[SmtpInbox, int]) -> SmtpPager:
        return SmtpPager(host="127.0.0.1", port=inbox[1], sender="trustdesk@example.org", timeout_s=10)

    @pytest.fixture
    def delivered(self, inbox: tuple[SmtpInbox, int]) -> Callable[[], list[Delivered]]:
        return lambda: [_read_mail(mail) for mail in inbox[0].mails]

    @pytest.fixture
    def refuse(self, inbox: tuple[SmtpInbox, int]) -> Callable[[], None]:
        return lambda: inbox[0].refuse.update({"alice@example.org", "bob@example.org"})


def _read_mail(mail: Message) -> Delivered:
    """`[URGENCY] subject`, the page's id in X-Trustdesk-Page, the body and then the link."""
    tag, _, subject = str(mail["Subject"]).partition("] ")
    body, _, link = str(mail.get_payload()).replace("\r\n", "\n").rstrip("\n").partition("\n\nAcknowledge: ")
    return Delivered(
        to=str(mail["To"]),
        urgency=tag.lstrip("[").lower(),
        subject=subject,
        page_id=int(mail["X-Trustdesk-Page"]),
        body=body,
        ack_url=link,
    )
