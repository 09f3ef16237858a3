"""The event bus: one interface, two adapters (in-process, NATS JetStream), chosen by the
`bus` setting.

Delivery is at least once. A consumer fetches a batch, handles it, and acknowledges each
message; a message that is not acknowledged (the worker died, or asked for a retry) is
delivered again, with its attempt count, so that handlers must be idempotent. A message that
keeps failing goes to the dead-letter subject with the error, where a person can look at it
and send it back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_PREFIX = "trustdesk"


@dataclass
class Delivery:
    """One message handed to a consumer. `attempt` counts from 1; `settle` is how the
    adapter is told what became of it (ack, retry, or dead)."""

    subject: str
    data: bytes
    attempt: int
    msg_id: str | None
    _ack: Callable[[], Awaitable[None]] = field(repr=False)
    _retry: Callable[[float], Awaitable[None]] = field(repr=False)
    value: object = field(default=None, repr=False)  # the in-process bus: the object published with `data`
    _working: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)

    async def ack(self) -> None:
        await self._ack()

    async def retry(self, delay: float = 0.0) -> None:
        await self._retry(delay)

    async def working(self) -> None:
        """Tell the bus that the consumer still holds this message and is handling it, so
        that the acknowledgement wait starts again (a no-op where the wait never runs out)."""
        if self._working is not None:
            await self._working()


@dataclass(frozen=True)
class DeadLetter:
    """A message taken out of circulation, with the reason a person needs to decide on it."""

    seq: int
    subject: str
    data: bytes
    error: str
    attempts: int
    at: datetime


@dataclass(frozen=True)
class BusStats:
    """What operations watch: messages waiting, handed out but not yet acknowledged, dead."""

    pending: int
    in_flight: int
    dead: int


class Bus(ABC):
    """A durable work queue of events under `prefix`. Subjects passed in are relative
    ('events.message'); adapters put the prefix in front."""

    prefix: str
    # Seconds a delivery stays with its consumer unacknowledged before the bus hands it to
    # another; None where it stays until settled (the in-process bus: one consumer).
    ack_wait: float | None = None

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def publish(self, subject: str, data: bytes, *, msg_id: str | None = None) -> None: ...

    async def publish_many(
        self, items: Sequence[tuple[str, bytes, str | None]], *, values: Sequence[object] | None = None
    ) -> None:
        """Publish several messages; adapters override this to pipeline them. `values`, one
        per item, are the already-decoded objects the bytes encode: the in-process bus hands
        them to the consumer so it need not decode again; other adapters ignore them."""
        for subject, data, msg_id in items:
            await self.publish(subject, data, msg_id=msg_id)

    @abstractmethod
    async def fetch(self, batch: int, *, timeout: float) -> list[Delivery]:
        """Up to `batch` messages, waiting at most `timeout` seconds for the first one."""

    @abstractmethod
    async def dead_letter(self, delivery: Delivery, *, error: str) -> None:
        """Move a delivery to the dead-letter subject (and acknowledge the original)."""

    @abstractmethod
    async def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]: ...

    @abstractmethod
    async def remove_dead_letter(self, seq: int) -> None: ...

    @abstractmethod
    async def stats(self) -> BusStats: ...

    async def __aenter__(self) -> Bus:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
