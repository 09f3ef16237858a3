"""Verifying the audit chain at a year's size: raw rows, one hash each, in bounded memory, and
across processes where the chain is long (issue #19, "audit at scale").

The first verifier loaded every entry as an ORM object and hashed a dict built from its
attributes: ~60 s per million entries, of which loading the objects was half and building
the dict and its JSON the rest (profiled with cProfile on `benchmarks/audit_verify.py`). Here
a page is read as plain tuples (no ORM, no type processing), each entry's canonical JSON is
written directly in `canonical`'s key order, and a long chain is split into stretches
(`Span`) that worker processes walk on their own connections, each in pages. What a stretch
cannot know by itself (the link from the stretch before, the checkpoints) the coordinator
checks in order, so the result names the same first broken entry as one walk from the start
would (tests/core/test_audit_verification.py checks both against each other)."""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from trustdesk.core.clock import as_utc
from trustdesk.core.database import Database

if TYPE_CHECKING:
    from trustdesk.core.audit.checkpoints import Checkpoint

PAGE = 20_000  # entries per read: ~10 MB of rows in memory, whatever the chain holds
SPAN = 250_000  # entries per stretch handed to a worker process
# The columns in the order `_row_hash` takes them, and `entry_hash` last.
_SELECT = (
    "SELECT seq, at, actor, action, object_type, object_id, reason, details, change_digest, "
    "policy_version, request_id, prev_hash, entry_hash FROM audit_entries "
    "WHERE seq > :after AND seq <= :upto ORDER BY seq LIMIT :limit"
)
_string = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]  # what json.dumps writes a str with
# `canonical` (sorted keys, no spaces) of an entry's hashed fields, written in one step.
_TEMPLATE = (
    '{"action":%s,"actor":%s,"at":%s,"change_digest":%s,"details":%s,"object_id":%s,"object_type":%s,'
    '"policy_version":%s,"prev_hash":%s,"reason":%s,"request_id":%s,"seq":%d}'
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def _json(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _instant(value: Any) -> str:
    """The time as the entry was hashed: ISO form in UTC. SQLite hands back the stored text
    (naive, UTC), PostgreSQL an aware datetime in the session's zone."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":  # as SQLAlchemy stores it: cut, not parsed
            return f"{value[:10]}T{value[11:19]}+00:00" if value.endswith(".000000") else f"{value[:10]}T{value[11:]}+00:00"
        value = datetime.fromisoformat(value)
    return as_utc(value, naive_is_utc=True).isoformat()


def _details(value: Any) -> str:
    """`details` in canonical JSON; SQLite returns the stored JSON text, psycopg parses it."""
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(row: Sequence[Any]) -> str:
    """The entry hash of a raw row (`_SELECT`'s columns), equal to `service._chain_hash` of
    the same entry: the same canonical JSON, without building the dict."""
    seq, at, actor, action, object_type, object_id, reason, details, change_digest, policy, request_id, prev = row[:12]
    canonical = _TEMPLATE % (
        _json(action),
        _json(actor),
        _string(_instant(at)),
        _json(change_digest),
        _details(details),
        _json(object_id),
        _json(object_type),
        _json(policy),
        _json(prev),
        _json(reason),
        _json(request_id),
        seq,
    )
    return sha256(canonical.encode()).hexdigest()


def _page(session: Session, *, after: int, upto: int, limit: int = PAGE) -> list[Sequence[Any]]:
    return list(session.execute(text(_SELECT), {"after": after, "upto": upto, "limit": limit}).all())


def rows(session: Session, *, after: int, upto: int) -> Iterator[Sequence[Any]]:
    """The entries after `after` up to `upto`, in order, a page at a time, in `session`."""
    while batch := _page(session, after=after, upto=upto):
        yield from batch
        after = batch[-1][0]


def rows_in_pages(db: Database, *, after: int, upto: int) -> Iterator[Sequence[Any]]:
    """As `rows`, each page in a read-only transaction of its own (`Database.read`: on
    SQLite no page holds the writer's lock, and no snapshot lives for the whole walk)."""
    while True:
        with db.read() as session:
            batch = _page(session, after=after, upto=upto)
        if not batch:
            return
        yield from batch
        after = batch[-1][0]


@dataclass(frozen=True)
class Span:
    """What one stretch of the chain, entries `first`..`upto`, came to on its own: how many
    entries held from its first, the first one that did not (missing, linked wrong inside
    the stretch, or not matching its hash), the first entry's own link (for the coordinator
    to hold to the stretch before) and the hashes at the checkpoints inside it."""

    first: int
    checked: int
    first_prev: str | None
    last_hash: str | None
    broken: tuple[int, str] | None = None
    at_marks: dict[int, str] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return self.first + self.checked - 1


def walk_span(entries: Iterable[Sequence[Any]], *, first: int, marks: frozenset[int] = frozenset()) -> Span:
    expected, prev, first_prev = first, None, None
    at_marks: dict[int, str] = {}
    for row in entries:
        seq, prev_hash, entry_hash = row[0], row[11], row[12]
        if seq != expected:
            return Span(first, expected - first, first_prev, prev, (expected, f"entry {expected} is missing"), at_marks)
        if prev is None:
            first_prev = prev_hash
        elif prev_hash != prev:
            return Span(first, expected - first, first_prev, prev, (seq, "link to the previous entry is broken"), at_marks)
        if row_hash(row) != entry_hash:
            return Span(first, expected - first, first_prev, prev, (seq, "content does not match its hash"), at_marks)
        if seq in marks:
            at_marks[seq] = entry_hash
        prev, expected = entry_hash, expected + 1
    return Span(first, expected - first, first_prev, prev, None, at_marks)


class _Marks:
    """The checkpoints a walk holds the chain to, in the order of the entries they sign."""

    def __init__(self, checkpoints: Sequence[Checkpoint], after: int) -> None:
        self.ahead = deque(sorted((c for c in checkpoints if c.seq > after), key=lambda c: c.seq))
        self.agreed = after  # the last entry a checkpoint confirmed
        self.seqs = frozenset(c.seq for c in self.ahead)

    def check(self, seq: int, entry_hash: str) -> str | None:
        while self.ahead and self.ahead[0].seq == seq:
            mark = self.ahead.popleft()
            if mark.head != entry_hash:
                return (
                    f"entries {self.agreed + 1}..{seq} do not recompute to the head signed by checkpoint {mark}: "
                    "they were rewritten or reordered since"
                )
            self.agreed = seq
        return None

    def missing(self, last_seq: int) -> str | None:
        if not self.ahead:
            return None
        latest = self.ahead[-1]
        return f"entries {last_seq + 1}..{latest.seq} are missing: checkpoint {latest} signed a chain of {latest.seq} entries"


def combine(
    head: ChainHead | None,
    spans: Iterable[Span],
    *,
    after: int,
    after_hash: str,
    checkpoints: Sequence[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """The chain's verdict from its stretches, taken in order: each stretch's first link is
    held to the stretch before, the checkpoints are checked entry by entry, and the first
    problem in the order of the entries wins, as in one walk from the start. The entries
    stop at the head, read first: what is committed during the walk belongs to the next
    verification."""
    marks = _Marks(checkpoints, after)
    prev_hash, checked, ended = after_hash, 0, False
    for span in spans:
        if span.checked == 0 and span.broken is None:
            ended = True  # nothing in this stretch: the chain ends here, unless a later one has entries
            continue
        if ended:
            return Verification(False, checked, after + checked + 1, f"entry {after + checked + 1} is missing")
        if span.broken is not None and span.broken[0] == span.first and span.first_prev is None:
            return Verification(False, checked, span.first, span.broken[1])  # its very first entry is missing
        if span.first_prev != prev_hash:
            return Verification(False, checked, span.first, "link to the previous entry is broken")
        for seq, entry_hash in sorted(span.at_marks.items()):
            if problem := marks.check(seq, entry_hash):
                return Verification(False, checked + seq - span.first, marks.agreed + 1, problem)
        if span.broken is not None:
            return Verification(False, checked + span.checked, span.broken[0], span.broken[1])
        prev_hash, checked = span.last_hash or prev_hash, checked + span.checked
        if progress is not None:
            progress(checked)
    last_seq, missing = after + checked, marks.missing(after + checked)
    if head is None and (last_seq or missing):
        return Verification(False, checked, last_seq + 1, "the head row is gone" + (f" and {missing}" if missing else ""))
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        return Verification(False, checked, last_seq + 1, "entries after this point were removed")
    if missing:
        return Verification(False, checked, last_seq + 1, missing)
    return Verification(True, checked)


NO_HEAD = 2**62  # with the head row gone, every entry there is is read


def walk_in_stretches(
    db: Database,
    head: ChainHead | None,
    *,
    after: int,
    after_hash: str,
    checkpoints: Sequence[Checkpoint],
    progress: Callable[[int], None] | None = None,
    span: int = SPAN,
) -> Verification:
    """The chain in this process, a stretch at a time (so that `progress` hears of each),
    each page in a read transaction of its own; with the head gone, one walk over what is there."""
    marks = _Marks(checkpoints, after).seqs
    ranges = [(after + 1, NO_HEAD)] if head is None else stretches(after, head.seq, span)
    spans = (walk_span(rows_in_pages(db, after=first - 1, upto=last), first=first, marks=marks) for first, last in ranges)
    return combine(head, spans, after=after, after_hash=after_hash, checkpoints=checkpoints, progress=progress)


# Worker processes: each opens its own connection to the same database.
_worker_db: Database | None = None


def _start_worker(url: str) -> None:
    global _worker_db
    _worker_db = Database.from_url(url)


def _walk_stretch(first: int, upto: int, marks: frozenset[int]) -> Span:
    assert _worker_db is not None, "the pool's initializer opens the database"
    return walk_span(rows_in_pages(_worker_db, after=first - 1, upto=upto), first=first, marks=marks)


def stretches(after: int, upto: int, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive stretches of `size` entries from `after + 1` to `upto`."""
    for first in range(after + 1, upto + 1, size):
        yield first, min(upto, first + size - 1)


def shareable_url(db: Database) -> str | None:
    """The URL other processes can open the same database with; None where they cannot (an
    in-memory SQLite, or a test's database bound to one rolled-back connection)."""
    url = db.engine.url
    if db.bound or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        return None
    return url.render_as_string(hide_password=False)


def walk_in_processes(
    db: Database,
    head: ChainHead,
    *,
    after: int,
    after_hash: str,
    checkpoints: Sequence[Checkpoint],
    workers: int,
    progress: Callable[[int], None] | None = None,
    span: int = SPAN,
) -> Verification:
    """Stretches of `span` entries walked by `workers` processes, at most `workers` ahead of
    the one the coordinator is at (memory stays bounded), judged in order by `combine`."""
    url = shareable_url(db)
    assert url is not None, "the caller checks that the database can be shared"
    marks = _Marks(checkpoints, after).seqs
    context = multiprocessing.get_context("spawn")  # no connection or lock is inherited half-open
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(url,)) as pool:
        pending: deque[Any] = deque()

        def results() -> Iterator[Span]:
            for first, upto in stretches(after, head.seq, span):
                pending.append(pool.submit(_walk_stretch, first, upto, frozenset(m for m in marks if first <= m <= upto)))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

        try:
            return combine(head, results(), after=after, after_hash=after_hash, checkpoints=checkpoints, progress=progress)
        finally:
            for future in pending:
                future.cancel()
