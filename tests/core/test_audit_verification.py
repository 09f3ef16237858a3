"""The fast verifier (core/audit/verification.py) gives the verdict the chain's own hashing
gives: a raw row hashes as `_chain_hash` of the same entry, for any content; and a chain
walked in stretches by worker processes names the same first broken entry, the same count
and the same problem as one walk from the start, whatever was done to it."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text, update

from tests.conftest import TEST_ACTOR
from trustdesk.core import migrate
from trustdesk.core.audit import service, verification
from trustdesk.core.audit.checkpoints import Checkpoint
from trustdesk.core.audit.models import AuditEntry, AuditHead
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_OPTIONAL = st.none() | _TEXT
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(1, 2**62),
    at=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)),
    strings=st.tuples(_TEXT, _TEXT, _TEXT, _OPTIONAL, _OPTIONAL, _TEXT, _OPTIONAL, _OPTIONAL, _TEXT),
    details=st.dictionaries(_TEXT, _JSON, max_size=6),
    as_text=st.booleans(),
)
def test_a_raw_row_hashes_as_the_chain_hashes_the_entry(
    seq: int, at: datetime, strings: tuple[Any, ...], details: dict[str, Any], as_text: bool
) -> None:
    actor, action, object_type, object_id, reason, change_digest, policy, request_id, prev = strings
    fields = {
        "seq": seq,
        "at": at.replace(tzinfo=UTC),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "details": details,
        "change_digest": change_digest,
        "policy_version": policy,
        "request_id": request_id,
        "prev_hash": prev,
    }
    # as SQLite hands the row back (stored text) or as psycopg does (an aware datetime in the
    # session's zone, the JSON parsed)
    stored_at: Any = (
        at.strftime("%Y-%m-%d %H:%M:%S.%f") if as_text else at.replace(tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo)
    )
    stored_details: Any = service.json.dumps(details) if as_text else details
    row = (seq, stored_at, actor, action, object_type, object_id, reason, stored_details, change_digest, policy, request_id, prev)
    assert verification.row_hash(row) == service._chain_hash(fields)


def test_a_time_from_another_zone_hashes_as_its_utc_instant() -> None:
    utc = datetime(2026, 12, 8, 1, 2, 3, tzinfo=UTC)
    assert verification._instant(utc.astimezone(datetime.now().astimezone().tzinfo)) == utc.isoformat()
    assert verification._instant("2026-12-08 01:02:03.000000") == "2026-12-08T01:02:03+00:00" == utc.isoformat()


# -- the chain walked in stretches, against one walk ------------------------------------------


@pytest.fixture(scope="module")
def chain_url(fresh_database_url: Callable[[str], str]) -> str:
    url = fresh_database_url("audit_stretches")
    migrate.upgrade(url)
    return url


def _fill(db: Database, n: int) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with db.transaction() as session:
        session.execute(delete(AuditEntry))
        session.execute(delete(AuditHead))
    clock = FrozenClock(start)
    with db.transaction() as session:
        batch = service.AuditBatch(session, clock=clock)
        for i in range(n):
            clock.advance(seconds=1, microseconds=i % 2)  # times with and without a fraction of a second
            batch.record(
                actor=TEST_ACTOR,
                action="thing.change",
                object_type="thing",
                object_id=i,
                reason=string.ascii_letters[i % 52] * (i % 7),
                details={"i": i, "note": "ünïcödé" if i % 3 else None},
                change={"i": i},
            )
        batch.flush()


def _checkpoint(db: Database, seq: int) -> Checkpoint:
    with db.read() as session:
        head = session.execute(text("SELECT entry_hash FROM audit_entries WHERE seq = :s"), {"s": seq}).scalar_one()
    return Checkpoint(seq=seq, head=head, at=datetime(2026, 12, 2, tzinfo=UTC), key_id="k")


def _edit(db: Database, statement: Any) -> None:
    with db.transaction() as session:
        session.execute(statement)


TAMPERING: dict[str, Any] = {
    "intact": None,
    "an entry's content edited": update(AuditEntry).where(AuditEntry.seq == 437).values(reason="edited"),
    "the first entry of a stretch edited": update(AuditEntry).where(AuditEntry.seq == 401).values(actor="staff:mallory"),
    "an entry deleted inside a stretch": delete(AuditEntry).where(AuditEntry.seq == 250),
    "the first entry of a stretch deleted": delete(AuditEntry).where(AuditEntry.seq == 301),
    "a whole stretch deleted": delete(AuditEntry).where(AuditEntry.seq.between(501, 600)),
    "the tail deleted": delete(AuditEntry).where(AuditEntry.seq > 880),
    "a link rewritten": update(AuditEntry).where(AuditEntry.seq == 702).values(prev_hash="f" * 64),
    "the head row deleted": delete(AuditHead),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_stretches_give_the_verdict_of_one_walk(chain_url: str, tampering: str) -> None:
    """Stretches of 100 entries judged by `combine` (what each worker process runs, in this
    process) against one walk over the whole chain, and the paged walk."""
    db = Database.from_url(chain_url)
    try:
        _fill(db, 1000)
        marks = [_checkpoint(db, 350), _checkpoint(db, 800), _checkpoint(db, 1000)]
        if TAMPERING[tampering] is not None:
            _edit(db, TAMPERING[tampering])
        with db.read() as session:
            one_walk = service.verify(session, checkpoints=marks)
            head = service._head(session)
        seen: list[int] = []
        in_stretches = verification.walk_in_stretches(
            db, head, after=0, after_hash=service.GENESIS, checkpoints=marks, span=100, progress=seen.append
        )
        assert in_stretches == one_walk
        assert service.verify_in_pages(db, checkpoints=marks) == (one_walk, head)
        assert one_walk.ok is (tampering == "intact")
        assert seen == sorted(seen) and (not one_walk.ok or seen[-1] == 1000)
    finally:
        db.dispose()


@pytest.mark.parametrize("tampering", ["intact", "an entry's content edited", "a whole stretch deleted"])
def test_worker_processes_give_the_verdict_of_one_walk(chain_url: str, tampering: str) -> None:
    db = Database.from_url(chain_url)
    try:
        _fill(db, 1000)
        marks = [_checkpoint(db, 350), _checkpoint(db, 1000)]
        if TAMPERING[tampering] is not None:
            _edit(db, TAMPERING[tampering])
        one_walk, head = service.verify_in_pages(db, checkpoints=marks)
        assert head is not None
        in_processes = verification.walk_in_processes(
            db, head, after=0, after_hash=service.GENESIS, checkpoints=marks, workers=2, span=100
        )
        assert in_processes == one_walk and one_walk.ok is (tampering == "intact")
    finally:
        db.dispose()


def test_a_checkpoint_that_no_longer_matches_is_named_from_the_last_one_that_held(chain_url: str) -> None:
    db = Database.from_url(chain_url)
    try:
        _fill(db, 1000)
        marks = [_checkpoint(db, 350), _checkpoint(db, 800)]
        # someone rewrote entry 600 and recomputed every hash after it: only the checkpoint catches it
        with db.transaction() as session:
            session.execute(update(AuditEntry).where(AuditEntry.seq == 600).values(reason="rewritten"))
            rows = list(session.execute(text(verification._SELECT), {"after": 599, "upto": 1000, "limit": 1000}))
            prev = session.execute(text("SELECT entry_hash FROM audit_entries WHERE seq = 599")).scalar_one()
            for row in rows:
                fixed = (*row[:11], prev)
                prev = verification.row_hash(fixed)
                session.execute(update(AuditEntry).where(AuditEntry.seq == row[0]).values(prev_hash=fixed[11], entry_hash=prev))
            session.execute(update(AuditHead).values(last_hash=prev))
        one_walk, head = service.verify_in_pages(db, checkpoints=marks)
        in_stretches = verification.walk_in_stretches(db, head, after=0, after_hash=service.GENESIS, checkpoints=marks, span=100)
        assert in_stretches == one_walk
        assert not one_walk.ok and one_walk.first_broken == 351 and one_walk.checked == 799
        assert one_walk.problem is not None and one_walk.problem.startswith("entries 351..800 do not recompute")
    finally:
        db.dispose()


def test_from_a_checkpoint_only_what_came_after_it_is_read(chain_url: str) -> None:
    db = Database.from_url(chain_url)
    try:
        _fill(db, 1000)
        mark = _checkpoint(db, 900)
        _edit(db, update(AuditEntry).where(AuditEntry.seq == 10).values(reason="edited before the checkpoint"))
        since, _ = service.verify_in_pages(db, since=mark)
        assert since.ok and since.checked == 100  # what the checkpoint covers was checked when it was signed
        whole, _ = service.verify_in_pages(db, checkpoints=[mark])
        assert not whole.ok and whole.first_broken == 10
    finally:
        db.dispose()
