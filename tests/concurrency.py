"""Requests at the same time, in tests: a database of the module's own, and a call that waits
until the test lets it go.

The suite's `db` runs every test on one connection inside a rolled-back transaction; two
requests at once would share that connection. A module that sends requests at the same time
imports `db` and `staff` from here instead (`from tests.concurrency import db, staff`): a
fresh, migrated database on the chosen backend, committed as a server's is, dropped at the
end of the run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import StaffFactory
from tests.waiting import patience
from trustdesk.core import migrate
from trustdesk.core.database import Database


def wait_s() -> float:
    """How long a blocked call or a join waits: only ever reached when something is broken."""
    return patience(30)


@pytest.fixture(scope="module")
def db(fresh_database_url) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    url = fresh_database_url("concurrent")
    migrate.upgrade(url)
    database = Database.from_url(url)
    yield database
    database.dispose()


@pytest.fixture
def staff(db: Database, clock) -> StaffFactory:  # type: ignore[no-untyped-def]
    return StaffFactory(db, clock)


class Blocked:
    """Wraps a function: each call counts in, waits for `release`, calls it, counts out."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.inside, self.left, self.entered = 0, 0, threading.Semaphore(0)
        self.release, self.lock = threading.Event(), threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.inside += 1
        self.entered.release()
        self.release.wait(wait_s())
        with self.lock:
            self.left += 1
        return self.function(*args, **kwargs)


def in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start `call` in a thread; the list receives its result."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out
