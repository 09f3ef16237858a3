"""The CPU pool: jobs run on its threads, never more than `workers` at once, awaiting one
leaves the event loop free, and a closed pool starts again on the next job."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from trustdesk.core.cpu import PROCESS_NICENESS, CpuPool, default_workers
from trustdesk.core.settings import CpuPoolKind

WAIT = 30  # seconds: only ever reached when the behaviour under test is broken


def test_the_default_size_is_the_cpus_this_process_may_use() -> None:
    assert CpuPool().workers == default_workers() >= 1
    assert CpuPool(3).workers == 3


def test_no_more_than_workers_jobs_run_at_once_the_rest_wait_their_turn() -> None:
    pool, release = CpuPool(2), threading.Event()
    running, peak, lock = 0, 0, threading.Lock()

    def job(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(WAIT)
        with lock:
            running -= 1
        return n * n

    results: list[int] = []
    callers = [threading.Thread(target=lambda n=n: results.append(pool.call(job, n))) for n in range(5)]
    for caller in callers:
        caller.start()
    for _ in range(WAIT * 100):
        if pool.queued == 3:
            break
        threading.Event().wait(0.01)
    assert (running, pool.queued) == (2, 3)
    release.set()
    for caller in callers:
        caller.join(WAIT)
    assert sorted(results) == [0, 1, 4, 9, 16] and peak == 2
    pool.close()


def test_awaiting_a_job_leaves_the_event_loop_free() -> None:
    pool, release = CpuPool(1), threading.Event()

    async def main() -> list[str]:
        seen: list[str] = []
        job = asyncio.ensure_future(pool.run(lambda: release.wait(WAIT) and "job"))
        await asyncio.sleep(0)
        seen.append("loop ran while the job was blocked")  # before the fix: never reached first
        release.set()
        seen.append(await job)
        return seen

    assert asyncio.run(main()) == ["loop ran while the job was blocked", "job"]
    pool.close()


def test_a_job_that_uses_the_pool_runs_its_inner_job_inline_rather_than_deadlock() -> None:
    pool = CpuPool(1)
    assert pool.call(lambda: pool.call(lambda: threading.current_thread().name)).startswith("trustdesk-cpu")
    pool.close()


def test_errors_reach_the_caller_and_a_closed_pool_starts_again() -> None:
    pool = CpuPool(1)
    with pytest.raises(ZeroDivisionError):
        pool.call(lambda: 1 / 0)
    pool.close()
    pool.close()
    assert pool.call(lambda: 7) == 7 and asyncio.run(pool.run(int, "8")) == 8
    pool.close()


def test_a_process_pool_runs_jobs_in_other_processes_at_a_lower_priority() -> None:
    pool = CpuPool(1, CpuPoolKind.PROCESS)
    assert pool.call(os.getpid) != os.getpid()
    assert pool.call(os.nice, 0) == os.nice(0) + PROCESS_NICENESS
    assert asyncio.run(pool.run(divmod, 7, 2)) == (3, 1)
    pool.close()


def test_a_job_past_the_timeout_frees_its_caller_and_a_queued_one_is_dropped() -> None:
    """A stalled job (a decoder stuck on a hostile file) costs its worker, not its caller:
    the caller gets a 503-class error saying so, and a job still queued behind it never runs."""
    from trustdesk.core.cpu import JobTimedOut

    pool, release, ran = CpuPool(1, timeout=0.2), threading.Event(), []
    try:
        with pytest.raises(JobTimedOut, match="running") as stalled:
            pool.call(release.wait, WAIT)
        assert stalled.value.status == 503 and stalled.value.extensions["retry_after"] >= 1
        with pytest.raises(JobTimedOut, match="waiting for a free worker"):
            pool.call(ran.append, "queued")
        with pytest.raises(JobTimedOut):
            asyncio.run(pool.run(ran.append, "awaited"))
    finally:
        release.set()
        pool.close()
    assert "queued" not in ran
    assert CpuPool(1, timeout=5).call(pow, 2, 10) == 1024  # within the timeout: the answer
