"""The behaviour every pager must have, whatever the channel behind it.

A subclass provides three fixtures: `pager` (the implementation under test), `delivered` (a
function that reads, at the far end, what has arrived so far) and `refuse` (a function that
makes the far end refuse from then on: a phone that is off, an incident tool answering an
error, a relay that knows no such mailbox). The contract then sends through the port only, so
the in-memory twin, the log and the real adapters are held to one standard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pytest

from trustdesk.core.paging import PageMessage, Pager, PageUrgency, PagingFailed, Recipient

MESSAGE = PageMessage(
    page_id=7,
    urgency=PageUrgency.EMERGENCY,
    subject="TCO order 12",
    body="One-hour clock running",
    level=0,
    ack_url="http://td/console/emergency/pages/7",
)
SECOND = PageMessage(
    page_id=8, urgency=PageUrgency.DEADLINE, subject="Deadline of request 3", body="Due in 10 min", level=1, ack_url="http://td/8"
)
ALICE = Recipient(username="alice", display_name="Alice", email="alice@example.org")
BOB = Recipient(username="bob", display_name="Bob", email="bob@example.org")


@dataclass(frozen=True)
class Delivered:
    """One page as the far end read it. `page_id`, `body` and `ack_url` are None on a channel
    that does not carry them (the log keeps subjects only)."""

    to: str  # whom it addressed: a username, or an e-mail address
    urgency: str
    subject: str
    page_id: int | None
    body: str | None
    ack_url: str | None


class PagerContract:
    """Inherit, and provide the `pager`, `delivered` and `refuse` fixtures."""

    carries_the_page: ClassVar[bool] = True  # the page's id, body and acknowledge link reach the far end

    def address_of(self, recipient: Recipient) -> str:
        """How the channel addresses a person (a subclass overrides it: e-mail by address)."""
        return recipient.username

    @pytest.fixture
    def pager(self) -> Pager:
        raise NotImplementedError("a contract subclass provides the pager under test")

    @pytest.fixture
    def delivered(self) -> Callable[[], list[Delivered]]:
        raise NotImplementedError("a contract subclass reads its far end")

    @pytest.fixture
    def refuse(self) -> Callable[[], None]:
        raise NotImplementedError("a contract subclass makes its far end refuse")

    def test_the_channel_has_a_name_a_delivery_row_can_hold(self, pager: Pager) -> None:
        assert 0 < len(pager.channel) <= 16  # emergency_page_deliveries.channel is 16 characters

    def test_a_page_arrives_once_with_its_urgency_and_subject(
        self, pager: Pager, delivered: Callable[[], list[Delivered]]
    ) -> None:
        pager.send(MESSAGE, ALICE)
        (seen,) = delivered()
        assert seen.urgency == "emergency" and MESSAGE.subject in seen.subject

    def test_each_page_addresses_its_recipient(self, pager: Pager, delivered: Callable[[], list[Delivered]]) -> None:
        pager.send(MESSAGE, ALICE)
        pager.send(SECOND, BOB)
        assert [(d.to, d.urgency) for d in delivered()] == [
            (self.address_of(ALICE), "emergency"),
            (self.address_of(BOB), "deadline"),
        ]

    def test_the_far_end_gets_the_page_and_its_acknowledge_link(
        self, pager: Pager, delivered: Callable[[], list[Delivered]]
    ) -> None:
        pager.send(MESSAGE, ALICE)
        (seen,) = delivered()
        expected = (MESSAGE.page_id, MESSAGE.body, MESSAGE.ack_url) if self.carries_the_page else (None, None, None)
        assert (seen.page_id, seen.body, seen.ack_url) == expected

    def test_a_refused_page_raises_paging_failed(
        self, pager: Pager, delivered: Callable[[], list[Delivered]], refuse: Callable[[], None]
    ) -> None:
        refuse()
        with pytest.raises(PagingFailed):
            pager.send(MESSAGE, ALICE)
        assert delivered() == []
