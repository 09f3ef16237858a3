"""The console's pages at a working day's scale (issue #18): p95 of each queue page, a filtered
search, a case page and the dashboard, through the real app, on PostgreSQL.

    .venv/bin/python benchmarks/console.py [--requests 100000] [--cases 1000000] [--audit 10000000] [--runs 40]

Seeds two fresh PostgreSQL databases with bulk inserts (`insert_many`, a COPY): the named
baseline at a tenth of the size and the full size, then asks each page `--runs` times over
HTTP through the app (`create_app` behind Starlette's TestClient, signed in as a reviewer
and legal officer with a console session cookie) and prints p50/p95 per page for both, the
growth factor, and whether p95 meets the goal of 300 ms. The last line is
`requests cases audit worst_page worst_p95_ms baseline_p95_ms goal_met`."""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, text

from trustdesk.core import migrate
from trustdesk.core.audit import Actor
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database, insert_many
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Role
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.legal.demo import ensure_demo_agencies
from trustdesk.legal.models import Agency, LawfulRequest
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Case
from trustdesk.web.app import create_app

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACTOR = Actor("bench", "console")
NOW = datetime.now(UTC)
QUEUES = ["general", "illegal_goods", "abuse", "trusted_flaggers", "terrorism", "child_safety", "senior", "legal"]
INSTRUMENTS = ["eu_epoc", "eu_epoc_pr", "us_subpoena", "national_court_order", "tco_removal"]
STATES = ["received", "under_review", "answered", "refused", "closed"]
BATCH = 50_000
GOAL_MS = 300.0


def fresh_postgres(label: str) -> str:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"trustdesk_bench_console_{label}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    return url


def drop_postgres(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _batches(total: int, make) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, total, BATCH):
        yield [make(i) for i in range(start, min(total, start + BATCH))]


def seed(db: Database, *, requests: int, cases: int, audit: int) -> None:
    with db.transaction() as session:
        review.ensure_queues(session, actor=ACTOR, clock=SystemClock())
        ensure_demo_agencies(session, clock=SystemClock(), actor=ACTOR)
        agencies = list(session.scalars(select(Agency.id)))

    def request(i: int) -> dict:
        received = NOW - timedelta(minutes=i % 500_000)
        return {
            "reference": f"LR-2026-{i:07d}", "agency_id": agencies[i % len(agencies)], "channel": "portal",
            "instrument": INSTRUMENTS[i % len(INSTRUMENTS)], "catalogue_version": "bench", "issuer_kind": "court",
            "emergency": i % 97 == 0, "categories": ["subscriber"], "elements": {}, "enforcing_state_notified": False,
            "language": "en", "state": STATES[i % len(STATES)] if i % 10 else "received", "received_at": received,
            "extensions": 0, "due_at": received + timedelta(days=10), "deadline_statutory": True, "checklist": [],
            "verdict": "pass", "callback_required": False, "flags": [], "submission_sha256": "0" * 64, "submitted_by": "bench",
        }  # fmt: skip

    def case(i: int) -> dict:
        opened = NOW - timedelta(seconds=i * 7)
        waiting = i % 10 == 0  # a tenth still waits, the rest decided
        return {
            "subject_kind": "message", "subject_id": f"msg-{i}", "queue": QUEUES[i % len(QUEUES)], "priority": (i * 37) % 101,
            "state": "open" if waiting else "decided", "source": "notice", "sources": ["notice"], "reason": "reported",
            "signals": {}, "policy_hint": ["illegal_goods", "harassment", "terrorism", None][i % 4], "trusted_flagger": False,
            "reports": 1, "opened_at": opened, "due_at": opened + timedelta(hours=24),
            "claimed_by": "someone" if i % 50 == 0 else None,
            "claim_expires_at": NOW + timedelta(minutes=10) if i % 50 == 0 else None,
        }  # fmt: skip

    def entry(i: int) -> dict:
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        return {
            "seq": 10**12 + i, "at": NOW - timedelta(seconds=i), "actor": f"staff:user{i % 40}", "action": "review.case.claim",
            "object_type": "review_case", "object_id": str(i % 1_000_000), "details": {}, "change_digest": digest,
            "prev_hash": digest, "entry_hash": digest,
        }  # fmt: skip

    for table, total, make in [(LawfulRequest, requests, request), (Case, cases, case), (AuditEntry, audit, entry)]:
        for rows in _batches(total, make):
            with db.transaction() as session:
                insert_many(session, insert(table), rows)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def signed_in_client(url: str) -> tuple[TestClient, Database]:
    data_dir = Path(tempfile.mkdtemp())
    settings = load_settings(data_dir=data_dir, database_url=url, session_cookie_secure=False)
    platform = DemoPlatform.from_url(f"sqlite:///{data_dir / 'platform.db'}")
    db = Database.from_url(url)
    container = Container(settings=settings, db=db, clock=SystemClock(), platform=platform)
    with db.transaction() as session:
        identity.create_user(
            session, actor=ACTOR, clock=SystemClock(), username="bench", display_name="Bench", email="bench@example.org",
            password="a benchmark password", roles=[Role.REVIEWER, Role.LEGAL_OFFICER], totp_secret="JBSWY3DPEHPK3PXP",
        )  # fmt: skip
        review.add_member(session, actor=ACTOR, clock=SystemClock(), queue="general", username="bench")
        user = session.scalars(select(StaffUser).where(StaffUser.username == "bench")).one()
        secret, _ = identity.open_console_session(session, clock=SystemClock(), user=user, hours=2)
    client = TestClient(create_app(settings, container=container), base_url="http://127.0.0.1")
    client.cookies.set("td_session", secret)
    return client, db


def pages(db: Database) -> dict[str, str]:
    with db.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.queue == "general", Case.state == "open").order_by(Case.id.desc()))
    return {
        "dashboard": "/console",
        "review queue": "/console/review/queues/general",
        "review queue, filtered": "/console/review/queues/general?policy=illegal_goods&min_priority=50&due=24h&sort=due",
        "review search": "/console/review/queues/general?q=msg-8",
        "requests queue": "/console/requests",
        "requests, filtered": "/console/requests?country=DE&instrument=eu_epoc&sort=newest",
        "case page": f"/console/review/cases/{case_id}",
    }


def measure(client: TestClient, paths: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    out = {}
    for name, path in paths.items():
        times = []
        for _ in range(runs + 5):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {path} answered {response.status_code}: {response.text[:300]}")
        times = sorted(times[5:])  # the first five warm caches (templates, catalogues)
        out[name] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--audit", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()
    results, urls = {}, []
    sizes = {
        "baseline (1/10)": (args.requests // 10, args.cases // 10, args.audit // 10),
        "full": (args.requests, args.cases, args.audit),
    }
    try:
        for label, (n_req, n_case, n_audit) in sizes.items():
            url = fresh_postgres(label.split()[0])
            urls.append(url)
            start = time.perf_counter()
            seed(Database.from_url(url), requests=n_req, cases=n_case, audit=n_audit)
            print(
                f"{label}: {n_req} requests, {n_case} cases, {n_audit} audit entries seeded in {time.perf_counter() - start:.0f} s"
            )
            client, db = signed_in_client(url)
            with client:
                results[label] = measure(client, pages(db), args.runs)
            db.dispose()
    finally:
        if not args.keep:
            for url in urls:
                drop_postgres(url)
    base, full = results["baseline (1/10)"], results["full"]
    print(f"{'page':28} {'base p50':>9} {'base p95':>9} {'full p50':>9} {'full p95':>9} {'growth':>7}  goal")
    for name in full:
        (b50, b95), (f50, f95) = base[name], full[name]
        print(f"{name:28} {b50:9.1f} {b95:9.1f} {f50:9.1f} {f95:9.1f} {f95 / b95:7.2f}  {'ok' if f95 <= GOAL_MS else 'MISSED'}")
    worst = max(full, key=lambda n: full[n][1])
    print(
        args.requests, args.cases, args.audit, worst.replace(" ", "_").replace(",", ""),
        f"{full[worst][1]:.1f}", f"{base[worst][1]:.1f}", all(v[1] <= GOAL_MS for v in full.values()),
    )  # fmt: skip


if __name__ == "__main__":
    main()
