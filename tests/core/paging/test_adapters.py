"""What the webhook and SMTP pagers do beyond the contract (contract.py), against real servers
on loopback: the webhook signs each attempt, retries server errors under one delivery id and
gives up at once on a refusal; the mail's subject carries the urgency; an unreachable relay
is a failed page; the `pager` setting picks the adapter and refuses a half configuration."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.core.paging.contract import ALICE, MESSAGE
from tests.core.paging.servers import SmtpInbox, WebhookReceiver, free_port, smtp_server, webhook_receiver
from trustdesk.core.clock import FrozenClock
from trustdesk.core.paging import LogPager, PagingFailed, SmtpPager, WebhookPager, build_pager
from trustdesk.core.settings import load_settings
from trustdesk.core.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


def test_webhook_pager_signs_and_retries_on_server_errors(receiver: WebhookReceiver, clock: FrozenClock) -> None:
    receiver.answers = [503, 502]
    WebhookPager(url=receiver.url, secret=b"s3cret", clock=clock).send(MESSAGE, ALICE)
    assert [r.status for r in receiver.received] == [503, 502, 204]
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.received}) == 1  # one id, so receivers dedupe
    for attempt in receiver.received:
        verify(secret=b"s3cret", body=attempt.body, header=attempt.headers[SIGNATURE_HEADER], now=clock.now())
    assert json.loads(receiver.received[-1].body)["recipient"] == {"username": "alice", "email": "alice@example.org"}


def test_webhook_pager_gives_up_on_a_refusal_without_retrying(receiver: WebhookReceiver, clock: FrozenClock) -> None:
    receiver.status = 401
    with pytest.raises(PagingFailed, match="HTTP 401"):
        WebhookPager(url=receiver.url, secret=b"k", clock=clock).send(MESSAGE, ALICE)
    assert len(receiver.received) == 1


def test_webhook_pager_reports_an_unreachable_receiver(clock: FrozenClock) -> None:
    pager = WebhookPager(url=f"http://127.0.0.1:{free_port()}/page", secret=b"k", attempts=2, timeout_s=2, clock=clock)
    with pytest.raises(PagingFailed, match="unreachable after 2 attempts: ConnectError"):
        pager.send(MESSAGE, ALICE)


def test_smtp_pager_puts_the_urgency_in_the_subject() -> None:
    inbox: SmtpInbox
    with smtp_server() as (inbox, port):
        SmtpPager(host="127.0.0.1", port=port, sender="trustdesk@example.org").send(MESSAGE, ALICE)
    (mail,) = inbox.mails
    assert (mail["From"], mail["Subject"]) == ("trustdesk@example.org", "[EMERGENCY] TCO order 12")


def test_smtp_pager_reports_an_unreachable_relay() -> None:
    with pytest.raises(PagingFailed, match="SMTP delivery failed"):
        SmtpPager(host="127.0.0.1", port=free_port(), sender="t@example.org", timeout_s=2).send(MESSAGE, ALICE)


def test_the_pager_setting_picks_the_adapter_and_refuses_half_configurations() -> None:
    assert isinstance(build_pager(load_settings()), LogPager)
    assert isinstance(
        build_pager(load_settings(pager="webhook", pager_webhook_url="http://127.0.0.1:9/p", pager_webhook_secret="s" * 20)),
        WebhookPager,
    )
    assert isinstance(build_pager(load_settings(pager="smtp", smtp_host="127.0.0.1")), SmtpPager)
    with pytest.raises(ValueError, match="PAGER_WEBHOOK_URL"):
        build_pager(load_settings(pager="webhook"))
    with pytest.raises(ValueError, match="SMTP_HOST"):
        build_pager(load_settings(pager="smtp"))
