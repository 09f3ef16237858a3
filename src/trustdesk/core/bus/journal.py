"""The embedded default's bus: the in-process queue, with a journal on disk.

The in-process queue alone lives in memory, so an event answered 202 was lost when the
process died before handling it. `JournaledBus` first commits every accepted message to a
small SQLite file of its own (WAL, `synchronous=FULL`) and only then queues it and returns,
so that a publisher's success means the message survives a crash (SIGKILL or power loss).
`recover()`, called by the process that runs the worker, queues again what the journal
still holds, in order. Acknowledgements delete rows in batches; a message handled but not
yet forgotten when the process dies comes back once more after a restart, which the bus's
at-least-once contract already asks of handlers (the pipeline skips event ids it handled).

The journal is a file of its own, not a table of the main database, on purpose: the main
database may be PostgreSQL or a SQLite file whose write lock a request already holds while
it publishes (a dead letter sent back), and a message for this process's queue belongs to
this process's disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from trustdesk.core.bus.memory import InProcessBus, _Message
from trustdesk.core.bus.port import DEFAULT_PREFIX, Delivery
from trustdesk.core.clock import Clock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix TEXT NOT NULL,
    subject TEXT NOT NULL,
    data BLOB NOT NULL,
    msg_id TEXT,
    accepted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS bus_journal_prefix ON bus_journal (prefix, id);
"""


class Journal:
    """Accepted, not yet settled messages, in one SQLite file. Thread-safe: one connection
    behind a lock (writes to one file serialise anyway)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def append(self, prefix: str, items: Sequence[tuple[str, bytes, str | None]]) -> list[int]:
        """Commits the messages and returns their row ids, in order."""
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    self._conn.execute(
                        "INSERT INTO bus_journal (prefix, subject, data, msg_id, accepted_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                        (prefix, subject, data, msg_id, now),
                    ).fetchone()[0]
                    for subject, data, msg_id in items
                ]
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return ids

    def forget(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("DELETE FROM bus_journal WHERE id = ?", [(i,) for i in ids])
            self._conn.execute("COMMIT")

    def pending(self, prefix: str) -> list[tuple[int, str, bytes, str | None]]:
        with self._lock:
            return self._conn.execute(
                "SELECT id, subject, data, msg_id FROM bus_journal WHERE prefix = ? ORDER BY id", (prefix,)
            ).fetchall()

    def count(self, prefix: str) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM bus_journal WHERE prefix = ?", (prefix,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class JournaledBus(InProcessBus):
    """`InProcessBus` whose publishes are committed to a `Journal` before they return."""

    def __init__(self, journal: Journal, *, prefix: str = DEFAULT_PREFIX, clock: Clock | None = None) -> None:
        super().__init__(prefix=prefix, clock=clock)
        self.journal = journal
        self._done: list[int] = []
        self._done_lock = threading.Lock()

    async def publish(self, subject: str, data: bytes, *, msg_id: str | None = None) -> None:
        await self.publish_many([(subject, data, msg_id)])

    async def publish_many(
        self, items: Sequence[tuple[str, bytes, str | None]], *, values: Sequence[object] | None = None
    ) -> None:
        with self._lock:
            fresh = [position for position, (_, _, msg_id) in enumerate(items) if self._admit(msg_id)]
        if not fresh:
            return
        refs = await asyncio.to_thread(self.journal.append, self.prefix, [items[p] for p in fresh])
        with self._lock:
            for position, ref in zip(fresh, refs, strict=True):
                subject, data, msg_id = items[position]
                value = values[position] if values is not None else None
                self._queue.append(_Message(f"{self.prefix}.{subject}", data, msg_id, value=value, ref=ref))

    def publish_now(self, subject: str, data: bytes, *, msg_id: str | None = None, value: object = None) -> None:
        with self._lock:
            if not self._admit(msg_id):
                return
        (ref,) = self.journal.append(self.prefix, [(subject, data, msg_id)])
        with self._lock:
            self._queue.append(_Message(f"{self.prefix}.{subject}", data, msg_id, value=value, ref=ref))

    def recover(self) -> int:
        """Queue again every message the journal holds for this prefix (after a crash, or a
        stop before the queue was drained); returns how many. Call once, before the worker
        starts, in the one process that handles this prefix's messages."""
        rows = self.journal.pending(self.prefix)
        with self._lock:
            queued = {m.ref for m in self._queue}
            for ref, subject, data, msg_id in rows:
                if ref not in queued:
                    self._queue.append(_Message(f"{self.prefix}.{subject}", data, msg_id, ref=ref))
        return len(rows)

    def _settled(self, message: _Message) -> None:
        if message.ref is not None:
            with self._done_lock:
                self._done.append(message.ref)

    async def fetch(self, batch: int, *, timeout: float) -> list[Delivery]:
        await self._forget_settled()
        return await super().fetch(batch, timeout=timeout)

    async def _forget_settled(self) -> None:
        with self._done_lock:
            done, self._done = self._done, []
        if done:
            await asyncio.to_thread(self.journal.forget, done)

    async def close(self) -> None:
        await self._forget_settled()
