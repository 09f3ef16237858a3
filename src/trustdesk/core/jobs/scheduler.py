"""The scheduler: each process polls, and for each job that is due tries to take its tick
through the database; the one that wins runs it, records the outcome, and lets go.

The election is one short transaction per job and tick: read the job's row (on PostgreSQL
`SELECT ... FOR UPDATE SKIP LOCKED`, so a second process skips a row the first is claiming
instead of waiting for it; on SQLite the transaction is `BEGIN IMMEDIATE`, one writer, so
the read and the update cannot interleave with another process's), check that it is due
and that no live lease holds it, then `UPDATE ... WHERE name = :name AND tick = :seen`:
a compare-and-set that only one process can win even if both read the same row. The winner
has moved `next_run_at` on by then, so the loser finds nothing due after that tick: a job
runs once per tick however many processes poll. A holder that dies mid-run lets go when its
lease ends (`lease_s`); the tick it held is not run again, the next one is.

Jobs own their transactions (one per unit of work, as the CLI commands they replace did);
the scheduler never holds a transaction while a job runs."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from trustdesk.core.clock import Clock
from trustdesk.core.database import Database, rows_matched, table_of
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.jobs.models import JobState

log = logging.getLogger(__name__)
OK, FAILED = "ok", "failed"
MIN_LEASE_S = 300.0


@dataclass(frozen=True)
class Job:
    """A job a room registers: its name (`room.what`), how often, and what it does. `run`
    opens its own transactions and returns a line of counts for the record (never data)."""

    name: str
    every_s: float
    run: Callable[[], str | None]
    description: str = ""
    first_after_s: float | None = None  # after a row is first made; default min(every_s, 60)
    lease_s: float | None = None  # longest run before another process may take over; default max(every_s, 300)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s if self.lease_s is not None else max(self.every_s, MIN_LEASE_S))

    @property
    def enabled(self) -> bool:
        return self.every_s > 0


@dataclass(frozen=True)
class Outcome:
    name: str
    tick: int
    ok: bool
    summary: str | None
    error: str | None
    duration_ms: int


def interval_of(overrides: Mapping[str, float], name: str, default: float) -> float:
    """A job's interval: the `jobs_every_s` setting's entry for it, else the room's default
    (0 turns the job off)."""
    return float(overrides.get(name, default))


def holder_name() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _error_text(exc: BaseException) -> str:
    """What the record keeps of a failure: the kind, and Trustdesk's own detail (written for
    people, free of data); another library's message may quote data, so only its kind."""
    if isinstance(exc, TrustdeskError):
        return f"{type(exc).__name__}: {exc.detail}"[:300]
    return type(exc).__name__


class Scheduler:
    """The jobs of one process. `run_due()` is one poll (what tests drive); `start()` polls
    in a thread every `poll_s` seconds until `stop()`."""

    def __init__(
        self, db: Database, jobs: Iterable[Job], *, clock: Clock, poll_s: float = 5.0, holder: str | None = None
    ) -> None:
        self.db, self.clock, self.poll_s = db, clock, poll_s
        self.jobs = {job.name: job for job in jobs}
        self.holder = holder or holder_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._known: set[str] = set()

    # -- the rows ---------------------------------------------------------------------------

    def ensure_rows(self) -> None:
        """One row per enabled job, made once by whichever process comes first."""
        missing = [job for job in self.jobs.values() if job.enabled and job.name not in self._known]
        if not missing:
            return
        now = self.clock.now()
        with self.db.transaction() as session:
            dialect = session.get_bind().dialect.name
            make = pg_insert if dialect == "postgresql" else sqlite_insert
            for job in missing:
                first = job.first_after_s if job.first_after_s is not None else min(job.every_s, 60.0)
                values = {"name": job.name, "next_run_at": now + timedelta(seconds=first), "every_s": job.every_s}
                session.execute(make(table_of(JobState)).values(**values).on_conflict_do_nothing(index_elements=["name"]))
        self._known.update(job.name for job in missing)

    # -- the election -----------------------------------------------------------------------

    def claim(self, job: Job, *, now_anyway: bool = False) -> int | None:
        """Take `job`'s due tick for this process: the tick number, or None when it is not due,
        another process holds it, or another process won it first. `now_anyway` takes a
        tick before it is due (`trustdesk jobs run --once`), never from a live holder."""
        now = self.clock.now()
        with self.db.transaction() as session:
            row = session.execute(
                select(JobState.tick, JobState.next_run_at, JobState.lease_until)
                .where(JobState.name == job.name)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            early = row is not None and row.next_run_at > now and not now_anyway
            if row is None or early or (row.lease_until is not None and row.lease_until > now):
                return None
            won = session.execute(
                update(JobState)
                .where(JobState.name == job.name, JobState.tick == row.tick)
                .values(
                    tick=row.tick + 1,
                    holder=self.holder,
                    lease_until=now + job.lease,
                    next_run_at=self._next(row.next_run_at, now, job.every_s),
                    last_started_at=now,
                    every_s=job.every_s,
                )
            )
            return row.tick + 1 if rows_matched(won) == 1 else None

    @staticmethod
    def _next(due: datetime, now: datetime, every_s: float) -> datetime:
        """The next tick on the job's own grid (no drift), or one period from now when the
        job fell behind by more than a period (no burst of catch-up runs)."""
        step = timedelta(seconds=every_s)
        following = due + step
        return following if following > now else now + step

    def _finish(self, job: Job, tick: int, outcome: Outcome) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(JobState)
                .where(JobState.name == job.name, JobState.tick == tick, JobState.holder == self.holder)
                .values(
                    holder=None,
                    lease_until=None,
                    last_holder=self.holder,
                    last_finished_at=self.clock.now(),
                    last_duration_ms=outcome.duration_ms,
                    last_outcome=OK if outcome.ok else FAILED,
                    last_summary=(outcome.summary or "")[:300] or None,
                    last_error=outcome.error,
                    runs=JobState.runs + 1,
                    failures=JobState.failures + (0 if outcome.ok else 1),
                    consecutive_failures=0 if outcome.ok else JobState.consecutive_failures + 1,
                )
            )

    # -- running ----------------------------------------------------------------------------

    def run_job(self, job: Job, tick: int) -> Outcome:
        started = time.monotonic()
        try:
            summary, error = job.run(), None
        except Exception as exc:  # a job's failure is recorded and retried next tick; it never stops the others
            log.exception("job %s failed (tick %d); it runs again next period", job.name, tick)
            summary, error = None, _error_text(exc)
        outcome = Outcome(job.name, tick, error is None, summary, error, int((time.monotonic() - started) * 1000))
        self._finish(job, tick, outcome)
        return outcome

    def run_due(self, *, now_anyway: bool = False) -> list[Outcome]:
        """One poll: every enabled job that is due (or every one, `now_anyway`) and that this
        process wins, run in turn."""
        self.ensure_rows()
        outcomes = []
        for job in self.jobs.values():
            if not job.enabled:
                continue
            tick = self.claim(job, now_anyway=now_anyway)
            if tick is not None:
                outcomes.append(self.run_job(job, tick))
        return outcomes

    def loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the database away for a moment: poll again
                log.exception("job scheduler: poll failed; polling again in %s s", self.poll_s)
            self._stop.wait(self.poll_s)

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self.loop, name="trustdesk-jobs", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def states(db: Database) -> list[JobState]:
    """Every job's row, by name: for the console page, the CLI and /metrics. A read of its own
    that takes no lock (`Database.read`): the console page calls it inside a request whose own
    transaction already holds SQLite's write lock, which a second read-write transaction would
    wait on until it timed out."""
    with db.read() as session:
        return list(session.scalars(select(JobState).order_by(JobState.name)))
