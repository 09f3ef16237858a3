"""The pager port: what a channel is handed (one message for one person) and the one way it
may say no. Escalation is not the channel's business: the rota (rota.py) decides who is paged
next, whatever the channel."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from trustdesk.core.paging.models import PageUrgency


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

    channel: str  # stored on each delivery row (16 characters at most)

    @abstractmethod
    def send(self, message: PageMessage, recipient: Recipient) -> None: ...
