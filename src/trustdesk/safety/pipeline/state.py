"""Pipeline state that rules read: counters over time windows and labels on entities with
expiry. Each has an in-memory view for one batch; the SQL versions load what a batch needs
in one query and write back in one statement, so a batch costs a handful of round trips
whatever its size. Backtests use the in-memory versions alone and touch nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Insert, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trustdesk.core.database import insert_many, table_of
from trustdesk.safety.pipeline.models import CounterBucket, EntityLabel

MAX_WINDOW_MINUTES = 7 * 24 * 60 + 1


def minute_of(at: datetime) -> int:
    return int(at.timestamp()) // 60


def counter_key(kind: str, field: str, value: str) -> str:
    return f"{kind}|{field}|{value}"[:300]


class Counters:
    """Events per key per minute. `count(key, at, seconds)` sums the minutes that overlap the
    window ending at `at` (so a window is exact to the minute), this event included."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, int]] = defaultdict(dict)
        self._pending: dict[tuple[str, int], int] = defaultdict(int)

    def add(self, key: str, at: datetime) -> None:
        minute = minute_of(at)
        bucket = self._buckets[key]
        bucket[minute] = bucket.get(minute, 0) + 1
        self._pending[(key, minute)] += 1

    def count(self, key: str, at: datetime, seconds: int) -> int:
        return self.count_in(self._buckets.get(key), minute_of(at), seconds)

    def buckets(self, key: str) -> dict[int, int] | None:
        return self._buckets.get(key)

    @staticmethod
    def count_in(bucket: dict[int, int] | None, last: int, seconds: int) -> int:
        if not bucket:
            return 0
        first = last - max(0, (seconds - 1) // 60)
        total = 0
        for minute, n in bucket.items():  # a handful of minutes: a plain loop beats sum(generator)
            if first <= minute <= last:
                total += n
        return total

    def load(self, session: Session, keys: Iterable[str], *, since: datetime) -> None:
        keys = sorted(set(keys))
        for start in range(0, len(keys), 500):
            query = select(CounterBucket.key, CounterBucket.minute, CounterBucket.count).where(
                CounterBucket.key.in_(keys[start : start + 500]), CounterBucket.minute >= minute_of(since)
            )
            for key, minute, count in session.execute(query):
                self._buckets[key][minute] = self._buckets[key].get(minute, 0) + count

    def flush(self, session: Session) -> None:
        """Add this batch's increments; sorted, so concurrent workers lock rows in one order."""
        if not self._pending:
            return
        rows = [{"key": k, "minute": m, "count": n} for (k, m), n in sorted(self._pending.items())]
        insert_many(session, _upsert(session.get_bind().dialect.name), rows, upsert=True)
        self._pending.clear()


_INSERT_LABELS = insert(table_of(EntityLabel))


@cache
def _upsert(dialect_name: str) -> Insert:
    """Add to a minute's count, or start it: built once per dialect."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = CounterBucket.__table__
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.key, table.c.minute], set_={"count": table.c.count + statement.excluded.count}
    )


class Labels:
    """Active labels of the entities in a batch: set, not removed, and not expired at the
    moment asked about."""

    def __init__(self) -> None:
        self._by_entity: dict[tuple[str, str], dict[str, datetime | None]] = defaultdict(dict)
        self._new: list[dict] = []  # label rows set by this batch's effects, written by `flush`

    def has(self, kind: str, entity: str, label: str, at: datetime) -> bool:
        labels = self._by_entity.get((kind, entity))
        if not labels or label not in labels:
            return False
        expires = labels[label]
        return expires is None or expires > at

    def of(self, kind: str, entity: str) -> dict[str, datetime | None] | None:
        """The entity's labels (label -> expiry), expired ones included: check with `has`'s rule."""
        return self._by_entity.get((kind, entity))

    def put(self, kind: str, entity: str, label: str, expires: datetime | None) -> None:
        self._by_entity[(kind, entity)][label] = expires

    def set(self, kind: str, entity: str, label: str, expires: datetime | None, *, at: datetime, by: str) -> None:
        """A label set by an effect: seen by the batch's later events at once, its row
        written with the batch's other rows by `flush` (one statement, not one ORM object)."""
        self.put(kind, entity, label, expires)
        self._new.append(
            {"entity_kind": kind, "entity_id": entity, "label": label, "set_at": at, "expires_at": expires, "set_by": by}
        )

    def flush(self, session: Session) -> None:
        """Write the label rows set since the last flush (before anything reads the table)."""
        insert_many(session, _INSERT_LABELS, self._new)
        self._new = []

    def drop(self, kind: str, entity: str, label: str) -> None:
        self._by_entity.get((kind, entity), {}).pop(label, None)

    def load(self, session: Session, entities: Iterable[tuple[str, str]], *, now: datetime) -> None:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, entity in sorted(set(entities)):
            by_kind[kind].append(entity)
        for kind, ids in by_kind.items():
            for start in range(0, len(ids), 500):
                query = select(EntityLabel.entity_id, EntityLabel.label, EntityLabel.expires_at).where(
                    EntityLabel.entity_kind == kind,
                    EntityLabel.entity_id.in_(ids[start : start + 500]),
                    EntityLabel.removed_at.is_(None),
                    or_(EntityLabel.expires_at.is_(None), EntityLabel.expires_at > now),
                )
                for entity, label, expires in session.execute(query):
                    self.put(kind, entity, label, expires)


def window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=MAX_WINDOW_MINUTES)
