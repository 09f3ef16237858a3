from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.orm import Session

from trustdesk.core.audit.models import AuditEntry, AuditHead
from trustdesk.core.audit.verification import (
    NO_HEAD,
    SPAN,
    ChainHead,
    Verification,
    combine,
    rows,
    shareable_url,
    walk_in_processes,
    walk_in_stretches,
    walk_span,
)
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.database import Database, insert_many, table_of

if TYPE_CHECKING:
    from trustdesk.core.audit.checkpoints import Checkpoint

GENESIS = "0" * 64

_INSERT_ENTRIES = insert(table_of(AuditEntry))


@dataclass(frozen=True)
class Actor:
    """Who did it: a person (`staff:alice`), an officer, a service token, a rule, or the system."""

    kind: str
    name: str
    request_id: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor("system", "trustdesk")
# Every kind an actor can have (the principal kinds of core/identity/permissions.py, and the
# actors that are no principal): the audit log's actor filter looks a bare name up as
# `kind:name` for each, an index lookup per kind rather than a scan for a substring.
# tests/core/test_audit_filter.py checks that the code makes no actor of another kind.
ACTOR_KINDS = ("staff", "officer", "token", "cli", "system", "rule", "public", "user", "anonymous")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


_HASHED = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "reason",
    "details",
    "change_digest",
    "policy_version",
    "request_id",
    "prev_hash",
)


def _entry_hash(entry: AuditEntry) -> str:
    return _chain_hash({name: getattr(entry, name) for name in _HASHED})


def _chain_hash(fields: dict[str, Any]) -> str:
    """The hash over every column but the hash itself (`_HASHED`), the time in ISO form."""
    return digest({name: fields["at"].isoformat() if name == "at" else fields[name] for name in _HASHED})


def _text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; keep the mark that something was there."""
    return None if value is None else value.replace("\x00", "\ufffd")


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def _fields(
    at: datetime,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None,
    reason: str | None,
    change: Any,
    details: dict[str, Any] | None,
    policy_version: str | None,
) -> dict[str, Any]:
    """An entry's columns but its place in the chain (seq, prev_hash, entry_hash)."""
    return {
        "at": at,
        "actor": _text(str(actor)),
        "action": _text(action),
        "object_type": _text(object_type),
        "object_id": None if object_id is None else _text(str(object_id)),
        "reason": _text(reason),
        "details": details or {},
        "change_digest": digest(change),
        "policy_version": policy_version,
        "request_id": actor.request_id,
    }


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    reason: str | None = None,
    change: Any = None,
    details: dict[str, Any] | None = None,
    policy_version: str | None = None,
    clock: Clock | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the entry exists exactly when the change
    it describes does. `change` is hashed, never stored; `details` is stored and must hold no
    secret or personal data."""
    head = _lock_head(session)
    fields = _fields(
        (clock or SystemClock()).now(), actor, action, object_type, object_id, reason, change, details, policy_version
    )
    entry = AuditEntry(seq=head.last_seq + 1, prev_hash=head.last_hash, **fields)
    entry.entry_hash = _entry_hash(entry)
    head.last_seq, head.last_hash = entry.seq, entry.entry_hash
    session.add(entry)
    session.flush()
    return entry


class AuditBatch:
    """Entries that one unit of work appends together (the pipeline's rule effects of a
    batch of events): each is chained when it is recorded, in order, and `flush` writes them
    in one statement under one lock of the head, where `record` locks and flushes each.

    Whoever holds a batch must `flush` it before anything else records in the same
    transaction (a case opened, an action taken), so that the chain's order stays the order
    in which things happened, and before the transaction commits."""

    def __init__(self, session: Session, *, clock: Clock | None = None) -> None:
        self.session, self.clock = session, clock or SystemClock()
        self._pending: list[dict[str, Any]] = []

    def record(
        self,
        *,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: str | int | None = None,
        reason: str | None = None,
        change: Any = None,
        details: dict[str, Any] | None = None,
        policy_version: str | None = None,
    ) -> None:
        """As `record`, without the entry object: it is written at the next `flush`."""
        self._pending.append(
            _fields(self.clock.now(), actor, action, object_type, object_id, reason, change, details, policy_version)
        )

    def flush(self) -> int:
        """Chain and write the pending entries; returns how many."""
        if not self._pending:
            return 0
        head = _lock_head(self.session)
        seq, prev_hash = head.last_seq, head.last_hash
        for row in self._pending:
            seq += 1
            row["seq"], row["prev_hash"] = seq, prev_hash
            row["entry_hash"] = prev_hash = _chain_hash(row)
        insert_many(self.session, _INSERT_ENTRIES, self._pending)
        head.last_seq, head.last_hash = seq, prev_hash  # flushed with the session, as `record`'s is
        written, self._pending = len(self._pending), []
        return written


def _head(session: Session) -> ChainHead | None:
    row = session.get(AuditHead, 1)
    return None if row is None else ChainHead(row.last_seq, row.last_hash)


def verify(session: Session, *, checkpoints: Sequence[Checkpoint] = ()) -> Verification:
    """Walk the chain from the first entry; name the first entry whose hash, link or sequence
    does not hold, and check the head so that a deleted tail is caught too.

    The database alone cannot tell a chain rewritten with recomputed hashes, or emptied with
    its head, from a true one. `checkpoints` (signed heads kept outside it, see
    `checkpoints.py`, their signatures already checked) close that: the chain must recompute
    to each one's head at its entry and reach the latest. (How it is fast: `verification.py`.)"""
    head = _head(session)
    marks = frozenset(c.seq for c in checkpoints)
    span = walk_span(rows(session, after=0, upto=NO_HEAD if head is None else head.seq), first=1, marks=marks)
    return combine(head, [span], after=0, after_hash=GENESIS, checkpoints=checkpoints)


def verify_in_pages(
    db: Database,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    since: Checkpoint | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[Verification, ChainHead | None]:
    """As `verify`, with a transaction per page of entries rather than one for the whole walk
    (read-only: on SQLite no page holds the writer's lock, `Database.read`); returns the head
    the chain was held to, read first. With `since`, only the entries after that checkpoint
    are read, and the chain must still hold it: what is checked before the next checkpoint is
    signed, in time proportional to what came after it. With `workers` > 1, a chain longer
    than a stretch is walked by that many processes (`verification.walk_in_processes`);
    `progress` is told how many entries have held so far."""
    with db.read() as session:
        head = _head(session)
        held = (
            since is None
            or since.seq == 0
            or session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == since.seq)) == since.head
        )
    if since is not None and not held:
        return Verification(False, 0, None, f"entry {since.seq} no longer holds the head signed by checkpoint {since}"), head
    after, after_hash = (0, GENESIS) if since is None else (since.seq, since.head)
    if workers > 1 and head is not None and head.seq - after > SPAN and shareable_url(db) is not None:
        result = walk_in_processes(
            db, head, after=after, after_hash=after_hash, checkpoints=checkpoints, workers=workers, progress=progress
        )
        return result, head
    result = walk_in_stretches(db, head, after=after, after_hash=after_hash, checkpoints=checkpoints, progress=progress)
    return result, head


def _actor_matches(value: str) -> ColumnElement[bool]:
    """`kind:name` exactly, or a bare name under any kind: both use the actor index."""
    value = value.strip()
    if ":" in value:
        return AuditEntry.actor == value
    return AuditEntry.actor.in_([f"{kind}:{value}" for kind in ACTOR_KINDS])


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Newest first, filtered; `before_seq` is the cursor for the next page."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    filters = {
        AuditEntry.actor: actor,
        AuditEntry.action: action,
        AuditEntry.object_type: object_type,
        AuditEntry.object_id: object_id,
    }
    for column, value in filters.items():
        if value and column is AuditEntry.actor:
            query = query.where(_actor_matches(value))
        elif value:
            query = query.where(column == value)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if before_seq:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query))
