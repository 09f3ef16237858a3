"""Storage: one SQLAlchemy engine per process, SQLite (WAL, one writer) or PostgreSQL.

Services receive a `Session`, flush, and never commit: the boundary (an API request, a CLI
command, a worker job) owns the transaction through `Database.transaction()`."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Insert,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from trustdesk.core.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module that declares tables. Alembic and the test schema import exactly these.
MODEL_MODULES = [
    "trustdesk.core.audit.models",
    "trustdesk.core.identity.models",
    "trustdesk.core.jobs.models",
    "trustdesk.core.access.models",
    "trustdesk.safety.enforcement.models",
    "trustdesk.safety.review.models",
    "trustdesk.safety.quality.models",
    "trustdesk.safety.reports.models",
    "trustdesk.legal.models",
    "trustdesk.legal.eevidence.models",
    "trustdesk.legal.policy.models",
    "trustdesk.legal.disclosure.models",
    "trustdesk.core.paging.models",
    "trustdesk.emergency.models",
    "trustdesk.safety.banks.models",
    "trustdesk.safety.exchanges.models",
    "trustdesk.platform.matrix.models",
    "trustdesk.safety.pipeline.models",
    "trustdesk.safety.automation.models",
    "trustdesk.transparency.reports.models",
    "trustdesk.privacy.models",
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on both SQLite (which forgets the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)  # a naive datetime is refused: an instant without a zone is a bug

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value, naive_is_utc=True)  # SQLite hands back naive datetimes, stored in UTC


def table_of(model: type[Base]) -> Table:
    """The table a model is mapped to, typed as one: SQLAlchemy types `__table__` as any
    FromClause (a mapping may be to a join), which `insert()` does not take."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def rows_matched(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute` is typed as returning any
    Result; a DML statement's is a CursorResult, which has the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {result!r}")
    return result.rowcount


def insert_many(session: Session, statement: Insert, rows: list[dict[str, Any]], *, upsert: bool = False) -> None:
    """executemany of `rows` (dicts with the same keys) through an INSERT of one table.

    SQLAlchemy's per-row parameter handling cost more than the database's own work (~4 µs
    of ~10 per pipeline event row, measured with py-spy on benchmarks/pipeline.py), so the
    statement is compiled once per column set and each value goes through its column type's
    own bind processor (stored exactly as SQLAlchemy would store it; a value repeated from
    the row before is converted once), then straight to the driver: on SQLite its
    executemany, on PostgreSQL a COPY (PostgreSQL's bulk path: no statement to parse and
    plan per batch, less server CPU per row, which is what lets workers share a machine
    with the database). An `upsert` (ON CONFLICT) on PostgreSQL, or rows whose keys differ,
    go through `session.execute`, whose insertmanyvalues batches them into multi-row
    statements. Pending ORM rows are flushed first, as `session.execute` would.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    first = rows[0].keys()
    if (
        dialect.name not in ("sqlite", "postgresql")
        or (upsert and dialect.name == "postgresql")
        or any(row.keys() != first for row in rows)
    ):
        session.execute(statement, rows)
        return
    keys = tuple(first)
    cached = _compiled_inserts.get((statement, keys, dialect.name))
    if cached is None:
        table = statement.table
        if dialect.name == "sqlite":
            compiled = statement.compile(dialect=dialect, column_keys=list(keys))
            order, sql = list(compiled.positiontup or ()), str(compiled)
        else:
            quote = dialect.identifier_preparer
            order = list(keys)
            sql = f"COPY {quote.format_table(table)} ({', '.join(quote.quote(k) for k in order)}) FROM STDIN"
        processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) if k in table.c else None for k in order]
        cached = _compiled_inserts[(statement, keys, dialect.name)] = (sql, order, processors)
    sql, order, processors = cached
    columns = []
    for key, process in zip(order, processors, strict=True):
        values = [row[key] for row in rows]
        if process is not None:
            last_in, last_out, converted = _NOTHING, None, []
            for value in values:
                if value is not last_in:
                    last_in, last_out = value, process(value)
                converted.append(last_out)
            values = converted
        columns.append(values)
    if session.autoflush:
        session.flush()
    if dialect.name == "sqlite":
        connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))
        return
    driver = connection.connection.driver_connection
    if driver is None:  # the pooled connection was invalidated
        raise RuntimeError("the database connection was invalidated")
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


_NOTHING = object()
_compiled_inserts: dict[tuple[Insert, tuple[str, ...], str], tuple[str, list[str], list[Any]]] = {}


def import_all_models() -> MetaData:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so that writers queue instead of failing
    halfway through a transaction with 'database is locked'."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # `Database.read()`: a snapshot that takes no lock; writers go on beside it, and a
            # write attempted in it fails at once (query_only) rather than upgrading the lock
            # halfway (which WAL refuses with SQLITE_BUSY once another writer has committed).
            conn.exec_driver_sql("BEGIN DEFERRED")
            conn.exec_driver_sql("PRAGMA query_only = ON")
        else:
            conn.exec_driver_sql("PRAGMA query_only = OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "trustdesk_read_only"  # the execution option `Database.read()` sets on its connections


def make_engine(url: str) -> Engine:
    # hide_parameters: an error (and SQL echo) names the statement but not its values, which
    # are message text, account names, e-mails; errors are logged (a failed pipeline batch).
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


class Database:
    """The engine and a session factory. `transaction()` is the only way code outside tests
    gets a session, so every unit of work commits or rolls back as one."""

    def __init__(self, engine: Engine, *, bind: Connection | None = None) -> None:
        self.engine = engine
        self._bound = bind is not None
        if bind is None:
            self._factory = sessionmaker(engine, expire_on_commit=False)
            self._read_factory = sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        else:  # tests: everything happens inside one outer transaction that is rolled back
            self._factory = sessionmaker(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
            self._read_factory = self._factory

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._factory() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction for long reads (reports, exports, verification): on SQLite
        a deferred snapshot that holds no lock, so a write beside it neither waits nor fails
        (`transaction()` holds the one writer's lock from its first statement); on PostgreSQL
        `READ ONLY`. Writing in it is an error."""
        with self._read_factory() as session, session.begin():  # its commit ends a snapshot and keeps rows readable
            if not self.is_sqlite and not self._bound:  # bound (tests): a savepoint, not a transaction of its own
                session.execute(text("SET TRANSACTION READ ONLY"))
            yield session

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """For domains that follow this database's transactions with session events
        (`after_commit`, ...) without listening to every Session in the process."""
        return self._factory

    def session(self) -> Session:
        """A session whose transaction the caller manages (web request scope)."""
        return self._factory()

    def ping(self) -> bool:
        with self.transaction() as session:
            return session.execute(text("SELECT 1")).scalar() == 1

    def dispose(self) -> None:
        self.engine.dispose()
