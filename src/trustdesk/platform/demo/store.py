"""The demo platform's database: its own engine, its own tables, one short transaction per
operation, the way a real service's API call would behave."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Engine, Select, SQLColumnExpression, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.database import make_engine
from trustdesk.platform.demo.models import DemoBase

_Ts = TypeVarTuple("_Ts")
MEMORY_URLS = frozenset({"sqlite://", "sqlite:///:memory:"})


def demo_engine(url: str) -> Engine:
    """An engine for the platform's database. In-memory SQLite shares one connection
    (StaticPool), or every new connection would see an empty database."""
    if url not in MEMORY_URLS:
        return make_engine(url)
    engine = create_engine(
        url, poolclass=StaticPool, connect_args={"check_same_thread": False}, hide_parameters=True
    )  # no values in errors

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    return engine


class DemoStore:
    """Engine, session factory and clock, shared by the adapter, the posting helper and the
    seed. Creates its tables on construction: the platform owns its schema."""

    def __init__(self, *, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._factory = sessionmaker(engine, expire_on_commit=False)
        DemoBase.metadata.create_all(engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def next_number(*, session: Session, model: type[DemoBase], start: int) -> int:
    """The next public number for a row of `model`. Rows are never deleted, so the count is
    monotonic; SQLite's single writer (BEGIN IMMEDIATE) keeps two posters from colliding."""
    count = session.scalar(select(func.count()).select_from(model)) or 0
    return start + count


def within(
    query: Select[*_Ts], *, column: SQLColumnExpression[datetime], since: datetime | None, until: datetime | None
) -> Select[*_Ts]:
    """Restrict `query` to [since, until): the half-open period every demo lookup uses, so
    that consecutive periods neither overlap nor leave a gap."""
    for bound in (since, until):
        if bound is not None and bound.tzinfo is None:
            raise ValueError("a period bound must be an aware datetime (UTC)")
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query
