"""Full verification of the audit chain, entries per second, against the walk it replaced.

    .venv/bin/python benchmarks/audit_verify.py [--n 1000000] [--url postgresql+psycopg://...] [--workers 2]

Fills a fresh database with N chained entries (as the pipeline writes them, `AuditBatch`),
then verifies the whole chain three ways and prints entries/s for each:
  - peer: the walk as shipped before issue #19's fix (ORM objects, a dict per entry), kept
    here verbatim in `orm_walk`;
  - ours, one process (`verify_in_pages(workers=1)`: raw rows, the canonical JSON written
    directly);
  - ours, `--workers` processes (stretches of 250,000 entries walked side by side).
It also verifies from a checkpoint at 90% of the chain (`since=`), whose time must be
proportional to the 10% after it. Goal (issue #19): >= 200,000 entries/s for a full
verification. The last line is `n backend peer_per_s one_per_s workers workers_per_s since_s`."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import select

from trustdesk.core import migrate
from trustdesk.core.audit.checkpoints import Checkpoint
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.audit.service import GENESIS, Actor, AuditBatch, _entry_hash, _head, verify_in_pages
from trustdesk.core.database import Database


def fill(db: Database, n: int) -> None:
    for start in range(0, n, 20_000):
        with db.transaction() as session:
            batch = AuditBatch(session)
            for i in range(start, min(n, start + 20_000)):
                batch.record(
                    actor=Actor("rule", f"r{i % 50}"),
                    action="pipeline.verdict",
                    object_type="event",
                    object_id=f"ev-{i}",
                    reason="matched",
                    change={"i": i},
                    details={"rule": f"r{i % 50}", "version": 3, "score": 0.93, "labels": ["drugs", "sale"]},
                    policy_version="2026-11",
                )
            batch.flush()


def orm_walk(db: Database) -> tuple[bool, int]:
    """The verification of 99f1840: a page of ORM entries per read transaction, each hashed
    from a dict of its attributes."""
    with db.read() as session:
        head = _head(session)
    after, prev_hash, checked = 0, GENESIS, 0
    while True:
        with db.read() as session:
            query = select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(1000)
            rows = list(session.scalars(query))
        if not rows:
            break
        for entry in rows:
            if entry.seq != after + 1 or entry.prev_hash != prev_hash or _entry_hash(entry) != entry.entry_hash:
                return False, checked
            after, prev_hash, checked = entry.seq, entry.entry_hash, checked + 1
    return head is not None and head.seq == after, checked


def timed(work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-peer", action="store_true", help="leave out the old walk (slow at large N)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/audit.db"
    migrate.upgrade(url)
    db = Database.from_url(url)
    _, fill_s = timed(lambda: fill(db, args.n))
    print(f"filled {args.n:,} entries in {fill_s:.1f} s ({db.engine.dialect.name})")
    peer_rate = 0.0
    if not args.skip_peer:
        (ok, checked), peer_s = timed(lambda: orm_walk(db))
        assert ok and checked == args.n
        peer_rate = args.n / peer_s
        print(f"peer (ORM walk, 99f1840):  {peer_s:7.2f} s  {peer_rate:>10,.0f} entries/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (one, _), one_s = timed(lambda: verify_in_pages(db, workers=1))
    assert one.ok and one.checked == args.n
    print(
        f"ours, one process:         {one_s:7.2f} s  {args.n / one_s:>10,.0f} entries/s  ({args.n / one_s / max(peer_rate, 1):.1f}x)"
    )
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    print(f"  peak memory grew by {grown:.0f} MB during it (pages of 20,000 entries)")
    (many, _), many_s = timed(lambda: verify_in_pages(db, workers=args.workers))
    assert many.ok and many.checked == args.n
    print(f"ours, {args.workers} processes:       {many_s:7.2f} s  {args.n / many_s:>10,.0f} entries/s  (goal 200,000)")
    at = args.n * 9 // 10
    with db.read() as session:
        head = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == at))
    mark = Checkpoint(seq=at, head=head or "", at=datetime.now(UTC), key_id="bench")
    (since, _), since_s = timed(lambda: verify_in_pages(db, since=mark))
    assert since.ok and since.checked == args.n - at
    print(f"ours, from a checkpoint at 90%: {since_s:.2f} s for {args.n - at:,} entries ({since_s / one_s:.0%} of the full walk)")
    print("n backend peer_per_s one_per_s workers workers_per_s since_s")
    print(
        f"{args.n} {db.engine.dialect.name} {peer_rate:.0f} {args.n / one_s:.0f} {args.workers} {args.n / many_s:.0f} {since_s:.3f}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
