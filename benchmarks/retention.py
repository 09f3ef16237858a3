"""Retention by the data map against the pipeline's own payload purge, on the same rows.

    .venv/bin/python benchmarks/retention.py [--n 20000] [--url postgresql+psycopg://...]

Fills a fresh database with N handled events past their period, then blanks their payloads
twice over identical copies: once with `safety.pipeline.retention.purge_payloads` (the peer:
one UPDATE, no pseudonyms, no marks) and once with `privacy.retention.run_retention` (by the
data map: the payload emptied, the actor pseudonymised, one `privacy_purged` mark per row,
in batches of 500, the guards checked). Prints rows per second for each and the ratio; the
last line is `n backend peer_s ours_s peer_rows_per_s ours_rows_per_s ratio`."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import delete, insert

from trustdesk.core import migrate
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.privacy import retention
from trustdesk.privacy.models import PurgedRow
from trustdesk.safety.pipeline import retention as pipeline_retention
from trustdesk.safety.pipeline.models import HandledEvent

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def fill(db: Database, n: int) -> None:
    old = NOW - timedelta(days=200)
    rows = [
        {"event_id": f"ev-{i}", "kind": "message", "platform": "demo", "actor": f"acct-{i % 997}", "occurred_at": old,
         "handled_at": old, "payload": '{"text": "hello there", "media": []}', "verdicts": [], "hits": 0, "worker": "w"}
        for i in range(n)
    ]  # fmt: skip
    with db.transaction() as session:
        session.execute(delete(PurgedRow))
        session.execute(delete(HandledEvent))
        session.execute(insert(HandledEvent), rows)


def timed(db: Database, work) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with db.transaction() as session:
        work(session)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--url", default=None, help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/retention.db"
    migrate.upgrade(url)
    db = Database.from_url(url)
    clock, actor = FrozenClock(NOW), Actor("benchmark", "retention")
    fill(db, args.n)
    peer = timed(db, lambda s: pipeline_retention.purge_payloads(s, actor=actor, clock=clock, days=90))
    fill(db, args.n)
    ours = timed(db, lambda s: retention.run_retention(s, clock=clock, actor=actor))
    backend = db.engine.dialect.name if hasattr(db, "engine") else url.split(":")[0]
    print(f"peer (pipeline purge_payloads): {peer:.2f} s, {args.n / peer:,.0f} rows/s")
    print(f"ours (privacy retention by the data map): {ours:.2f} s, {args.n / ours:,.0f} rows/s")
    print("n backend peer_s ours_s peer_rows_per_s ours_rows_per_s ratio")
    print(f"{args.n} {backend} {peer:.3f} {ours:.3f} {args.n / peer:.0f} {args.n / ours:.0f} {peer / ours:.3f}")


if __name__ == "__main__":
    main()
