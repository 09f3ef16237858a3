"""Reads that never block writes (issue #19): a long read in `Database.read()` holds no lock
on SQLite, so a write beside it neither waits nor fails; a write attempted inside it is
refused and changes nothing; the read-write transactions after it on the same pooled
connection write as before. On a real file (the test database fixture is one outer
transaction, which cannot show locking)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from trustdesk.core.database import Database


@pytest.fixture
def file_db(tmp_path: Path, backend: str):  # type: ignore[no-untyped-def]
    if backend != "sqlite":
        pytest.skip("the SQLite lock; PostgreSQL's READ ONLY is checked below")
    db = Database.from_url(f"sqlite:///{tmp_path / 'locks.db'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        session.execute(text("INSERT INTO t (v) VALUES ('a')"))
    yield db
    db.dispose()


def test_a_write_beside_a_long_read_goes_through_at_once(file_db: Database) -> None:
    reading, written = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        reading.wait(30)
        try:
            with file_db.transaction() as session:
                session.execute(text("INSERT INTO t (v) VALUES ('b')"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    with file_db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
        reading.set()
        # With the read holding the writer's lock (BEGIN IMMEDIATE), the write would wait for
        # this block to end (or fail after busy_timeout, 30 s): it completes while we read.
        assert written.wait(60), "the write waited for the read"
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1  # our snapshot
    thread.join(30)
    assert errors == []
    with file_db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_write_inside_a_read_is_refused_and_the_next_transaction_writes(file_db: Database) -> None:
    with pytest.raises(DBAPIError), file_db.read() as session:
        session.execute(text("INSERT INTO t (v) VALUES ('x')"))
    with file_db.transaction() as session:  # the pooled connection is writable again
        session.execute(text("INSERT INTO t (v) VALUES ('y')"))
    with file_db.read() as session:
        assert sorted(session.execute(text("SELECT v FROM t")).scalars()) == ["a", "y"]


def test_postgresql_reads_are_read_only(fresh_database_url, backend: str) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("PostgreSQL's READ ONLY")
    db = Database.from_url(fresh_database_url("reads"))
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE t (id serial PRIMARY KEY, v text)"))
        with pytest.raises(DBAPIError, match="read-only"), db.read() as session:
            session.execute(text("INSERT INTO t (v) VALUES ('x')"))
        with db.transaction() as session:
            session.execute(text("INSERT INTO t (v) VALUES ('y')"))
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        db.dispose()
