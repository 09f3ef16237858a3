"""Where CPU-bound work runs: a pool of `cpu_workers` threads or processes, off the event loop.

The server answers every request on one event loop; a handler that hashes a 12-megapixel
photo on it (~60-80 ms, a second or more on a busy machine) makes every other request wait
that long. An `async` handler hands such work over with `await pool.run(fn, ...)`; a plain
`def` handler (already in Starlette's thread pool, 40 threads) calls `pool.call(fn, ...)` so
that no more than `cpu_workers` CPU jobs run at once, however many requests ask for one.

Threads (`cpu_pool = "thread"`, the default) share the caller's memory, so a 100 MiB upload is
not copied, and what is costly here releases the GIL (Pillow's decoder, hashlib, numpy,
argon2 and libsodium through cffi): with two 12 MP hashes running in threads or in processes,
a loop's 1 ms ticks had the same p99 (6.7 / 6.3 ms on an idle machine). Processes
(`"process"`) run at a lower OS priority than the server (nice +10), so that on a machine with
more work than cores the scheduler serves requests first and uploads wait; their jobs and
results must pickle (module-level functions, plain data)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any, ParamSpec, TypeVar

from trustdesk.core.errors import Unavailable
from trustdesk.core.settings import CpuPoolKind

P = ParamSpec("P")
T = TypeVar("T")
PROCESS_NICENESS = 10  # how much lower than the server a worker process runs


def default_workers() -> int:
    """One fewer than the CPUs this process may run on (its affinity, else the machine's
    count), and at least one: a CPU is left to the server, so that hashing never makes a
    status call or a lookup wait (benchmarks/concurrency.py: on 2 CPUs, 2 hashing workers
    put the p99 of /healthz at 70 ms, 1 at 17 ms, for the same uploads per second)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


class JobTimedOut(Unavailable):
    """A CPU job did not finish within the pool's timeout (waiting for a worker, or running)."""


class CpuPool:
    """A bounded pool for CPU-bound jobs. Workers start on first use; `close` stops them and a
    later job starts the pool again (a test client or CLI command may open and close it
    more than once). `timeout` (seconds, None: none) bounds how long a caller waits for one
    job: past it the caller gets JobTimedOut and goes on, a job still queued is dropped, one
    already running finishes on its own (nothing stops a thread or a worker process safely)."""

    def __init__(
        self, workers: int | None = None, kind: CpuPoolKind = CpuPoolKind.THREAD, *, timeout: float | None = None
    ) -> None:
        self.workers, self.kind, self.timeout = workers or default_workers(), kind, timeout
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._in_flight = 0

    def _enter(self) -> None:
        _inside.pool = self

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.kind is CpuPoolKind.PROCESS:
                    self._executor = ProcessPoolExecutor(
                        self.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=os.nice,
                        initargs=(PROCESS_NICENESS,),
                    )
                else:
                    self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="trustdesk-cpu", initializer=self._enter)
            return self._executor

    def _submit(self, fn: Callable[..., T], *args: object, **kwargs: object) -> Future[T]:
        future = self._pool().submit(partial(fn, *args, **kwargs))
        with self._lock:
            self._in_flight += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the pool, awaited from the event loop, which stays free."""
        future = self._submit(fn, *args, **kwargs)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.timeout)
        except TimeoutError:
            raise self._timed_out(future) from None

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in the pool, from a worker thread (a plain `def` handler, the
        CLI): the caller waits, at most `workers` such jobs run at once. A job that calls
        the pool itself runs its inner job inline rather than wait for a free worker."""
        if getattr(_inside, "pool", None) is self:
            return fn(*args, **kwargs)
        future = self._submit(fn, *args, **kwargs)
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            raise self._timed_out(future) from None

    def _timed_out(self, future: Future[Any]) -> JobTimedOut:
        queued = future.cancel()  # only a job no worker has started can be cancelled
        where = "waiting for a free worker" if queued else "running"
        return JobTimedOut(
            f"The job took longer than {self.timeout:g} s ({where}); try again later.",
            retry_after=max(1, round(self.timeout or 1)),
        )

    @property
    def queued(self) -> int:
        """Jobs waiting for a free worker (all `workers` busy)."""
        with self._lock:
            return max(0, self._in_flight - self.workers)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_inside = threading.local()  # which pool, if any, the current thread belongs to
