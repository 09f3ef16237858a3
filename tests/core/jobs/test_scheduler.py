"""The scheduler's election: two schedulers (two threads, each with its own engine, as two
processes have) against one real database, on SQLite and on PostgreSQL; each job's tick runs
once, a failure is recorded, a dead holder lets go when its lease ends."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from trustdesk.core import migrate
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import InvalidInput
from trustdesk.core.jobs import Job, Scheduler
from trustdesk.core.jobs.scheduler import states


@pytest.fixture(scope="module")
def shared_url(fresh_database_url) -> str:
    url = fresh_database_url("jobs")
    migrate.upgrade(url)
    return url


@pytest.fixture
def two_dbs(shared_url: str) -> Iterator[tuple[Database, Database]]:
    """Two engines on one database: what two processes have."""
    first, second = Database.from_url(shared_url), Database.from_url(shared_url)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))


def _together(*schedulers: Scheduler) -> list[list]:
    """Every scheduler polls at the same moment, each in its own thread."""
    barrier, results = threading.Barrier(len(schedulers)), [[] for _ in schedulers]

    def poll(i: int) -> None:
        barrier.wait()
        results[i] = schedulers[i].run_due()

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(schedulers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _row(db: Database, name: str):
    return next(row for row in states(db) if row.name == name)


def test_two_schedulers_run_each_job_once_per_tick(two_dbs, clock) -> None:
    ran: Counter[str] = Counter()
    lock = threading.Lock()

    def job(name: str, every: float) -> Job:
        def run() -> str:
            with lock:
                ran[name] += 1
            return "done"

        return Job(name, every, run, first_after_s=0)

    jobs = [job("test.every_minute", 60), job("test.every_two_minutes", 120), job("test.off", 0)]
    a = Scheduler(two_dbs[0], jobs, clock=clock, holder="process-a")
    b = Scheduler(two_dbs[1], jobs, clock=clock, holder="process-b")
    winners = []
    for _ in range(6):
        for outcomes in _together(a, b):
            winners.extend(o.name for o in outcomes)
        clock.advance(seconds=60)
    assert ran == {"test.every_minute": 6, "test.every_two_minutes": 3}, "each tick ran once, by one process"
    assert Counter(winners) == ran
    row = _row(two_dbs[0], "test.every_minute")
    assert (row.runs, row.tick, row.failures, row.holder) == (6, 6, 0, None)
    assert row.last_outcome == "ok" and row.last_summary == "done" and row.last_holder in ("process-a", "process-b")
    assert row.next_run_at == clock.now(), "the next tick is on the job's own grid"
    assert "test.off" not in {r.name for r in states(two_dbs[0])}, "a job with interval 0 is off"


def test_a_failure_is_recorded_with_its_kind_and_the_job_runs_again_next_tick(two_dbs, clock) -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise InvalidInput("Keep event payloads for 1 to 3650 days.")
        if len(calls) == 2:
            raise RuntimeError("secret account @bob:example.org")  # another library's words: not kept
        return "fine"

    scheduler = Scheduler(two_dbs[0], [Job("test.flaky", 60, flaky, first_after_s=0)], clock=clock)
    [first] = scheduler.run_due()
    assert not first.ok and _row(two_dbs[0], "test.flaky").last_error == "InvalidInput: Keep event payloads for 1 to 3650 days."
    clock.advance(seconds=60)
    scheduler.run_due()
    row = _row(two_dbs[0], "test.flaky")
    assert (row.failures, row.consecutive_failures, row.last_error) == (2, 2, "RuntimeError")
    clock.advance(seconds=60)
    [third] = scheduler.run_due()
    row = _row(two_dbs[0], "test.flaky")
    assert third.ok and (row.runs, row.failures, row.consecutive_failures, row.last_error) == (3, 2, 0, None)


def test_a_holder_that_died_lets_go_when_its_lease_ends(two_dbs, clock) -> None:
    job = Job("test.long", 60, lambda: "ok", first_after_s=0, lease_s=600)
    a = Scheduler(two_dbs[0], [job], clock=clock, holder="dies")
    b = Scheduler(two_dbs[1], [job], clock=clock, holder="lives")
    a.ensure_rows()
    assert a.claim(job) == 1, "a takes the first tick, then dies before finishing it"
    assert b.claim(job) is None, "not due again yet"
    clock.advance(seconds=120)
    assert b.run_due() == [], "due, but a's lease still holds it"
    clock.advance(seconds=500)
    [outcome] = b.run_due()
    assert outcome.ok and outcome.tick == 2 and _row(two_dbs[1], "test.long").last_holder == "lives"
