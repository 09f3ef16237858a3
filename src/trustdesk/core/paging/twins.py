"""The pagers that need no incident tool: in memory (tests) and the log (the embedded default)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trustdesk.core.paging.port import PageMessage, Pager, PagingFailed, Recipient

log = logging.getLogger("trustdesk.paging")


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
