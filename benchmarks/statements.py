"""Statements of reasons at platform scale (issue #22): N decided cases into statements, and
the outbox submitting them to the DSA database's double over real HTTP on loopback, the
double in its own process keeping the API's rules and limits (100 a batch, 200 requests/s
and 12,000/min, a puid once).

    .venv/bin/python benchmarks/statements.py [--n 1000000] [--single 2000] [--kill-at 0.4]

1. Build: N decided actions (a mix of user notices, trusted flaggers, rules and hash matches,
   people and machines deciding, removals and timed or national restrictions) made into
   their statements by the builder itself (`statements.dsa_payload`, `user_facts`), each
   checked by the database's rules (`validate_statement`), stored with its action in a
   SQLite file, 2,000 to a transaction. Statements/s and the builder's peak RSS.
2. Peer in the same run: the first `--single` statements submitted one per request
   (`POST /api/v1/statement`), as before the batch endpoint, within the same rate limits.
3. Submit: the rest by the outbox (`dsa_submission.drain`: Trustdesk's checks, batches of
   100, each committed) in a submitter subprocess that is SIGKILLed when the double holds
   `--kill-at` of them, then started again to the end. Statements/s (wall time of both
   runs, the restart included), each run's peak RSS, and the count the double holds against
   N (lost), statements it was sent twice (duplicated: refused as held), 429s met.

End to end = statements / (build seconds + submit seconds), on one core each (the
double runs beside it). The last line is key=value pairs."""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from tests.doubles.dsa_database import TOKEN  # noqa: E402
from trustdesk.core import migrate  # noqa: E402
from trustdesk.core.audit import Actor  # noqa: E402
from trustdesk.core.clock import SystemClock  # noqa: E402
from trustdesk.core.database import Database  # noqa: E402
from trustdesk.core.dsa_database import HttpDsaDatabase  # noqa: E402
from trustdesk.safety.enforcement import dsa_submission  # noqa: E402
from trustdesk.safety.enforcement.actions import ActionKind, Source  # noqa: E402
from trustdesk.safety.enforcement.dsa import validate_statement  # noqa: E402
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons  # noqa: E402
from trustdesk.safety.enforcement.policies import load_policies  # noqa: E402
from trustdesk.safety.enforcement.statements import Facts, Subject, dsa_payload, language_for, user_facts  # noqa: E402

ACTOR = Actor("benchmark", "statements")
CHUNK = 2000
# (action, policy, source, automated, scope, days, legal ground): the kinds of decision made
MIX = [
    (ActionKind.REMOVE_MESSAGE, "illegal_goods", Source.NOTICE, False, None, None, "BtMG § 29"),
    (ActionKind.REMOVE_MESSAGE, "spam", Source.RULE, True, None, None, None),
    (ActionKind.REMOVE_MESSAGE, "illegal_goods", Source.TRUSTED_FLAGGER, False, None, None, "BtMG § 29"),
    (ActionKind.GEO_RESTRICT, "illegal_goods", Source.LEGAL, False, ["AT", "DE"], 30, "BtMG § 29"),
    (ActionKind.REMOVE_MESSAGE, "child_sexual_exploitation", Source.HASH_MATCH, True, None, None, "Directive 2011/93/EU"),
    (ActionKind.SUSPEND_ACCOUNT, "spam", Source.RULE, False, None, 7, None),
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """This process's CPU seconds: what a core of its own would have taken (the machine the
    figures come from is shared, so wall-clock rates undersell one core)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build(db: Database, n: int) -> tuple[float, float, float]:
    """N statements built and stored; (seconds, CPU seconds, peak RSS MB)."""
    book, started, cpu = load_policies(), time.perf_counter(), cpu_s()
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    actions, statements = [], []
    for i in range(n):
        kind, policy, source, automated, scope, days, legal = MIX[i % len(MIX)]
        until = now + timedelta(days=days) if days else None
        account = kind in (ActionKind.SUSPEND_ACCOUNT,)
        subject = Subject(
            kind="account" if account else "message",
            id=f"s{i}",
            account_id=f"u{i % 50_000}",
            country=("DE", "FR", "IT", None)[i % 4],
            content_types=("CONTENT_TYPE_TEXT",),
            content_date=date(2026, 3, 27),
            description="An account" if account else "A message sent at 2026-03-27 10:00 UTC",
        )
        facts = Facts(
            action=kind,
            policy=book.get(policy),
            book=book,
            subject=subject,
            source=source,
            automated=automated,
            reason="Breaks the rules.",
            legal_ground=legal,
            territorial_scope=scope,
            until=until,
            acted_on=now.date(),
            source_identity="Drug Watch e.V." if source is Source.TRUSTED_FLAGGER else None,
        )
        puid = f"td-bench-{i:08d}"
        payload = dsa_payload(facts, puid=puid)
        if validate_statement(payload):
            raise SystemExit(f"the builder made a statement the database would reject: {payload}")
        actions.append(
            {
                "id": i + 1,
                "subject_kind": subject.kind,
                "subject_id": subject.id,
                "account_id": subject.account_id,
                "action": kind.value,
                "policy": policy,
                "policy_version": book.version,
                "decision_ground": payload["decision_ground"],
                "legal_ground": legal,
                "automated": automated,
                "source": source.value,
                "reason": facts.reason,
                "rule_ref": "rules/spam.toml@3" if source is Source.RULE else None,
                "territorial_scope": scope,
                "until": until,
                "actor": "rule:spam" if automated else "reviewer:rita",
                "acted_at": now,
                "platform_ok": True,
                "platform_detail": "done",
            }
        )
        statements.append(
            {
                "action_id": i + 1,
                "puid": puid,
                "account_id": subject.account_id,
                "language": language_for(subject.country),
                "token": f"t{i:010d}",
                "facts": user_facts(facts, appeal_until=now + timedelta(days=183), puid=puid),
                "payload": payload,
                "told_at": now,
                "appeal_until": now + timedelta(days=183),
                "dsa_state": "pending",
                "dsa_attempts": 0,
            }
        )
        if len(actions) == CHUNK or i == n - 1:
            with db.transaction() as session:
                session.execute(insert(EnforcementAction.__table__), actions)
                session.execute(insert(StatementOfReasons.__table__), statements)
            actions, statements = [], []
    return time.perf_counter() - started, cpu_s() - cpu, rss_mb()


def submitter(url: str, database_url: str, limit: int | None, single: bool) -> None:
    """The outbox in its own process: drain, then print its totals and peak RSS as JSON."""
    db = Database.from_url(database_url)
    dsa = HttpDsaDatabase(base_url=url, token=TOKEN, batch_size=1 if single else 100)
    started, cpu = time.perf_counter(), cpu_s()
    summary = dsa_submission.drain(db, actor=ACTOR, clock=SystemClock(), dsa_database=dsa, limit=limit)
    waited = dsa.limit.waited if dsa.limit else 0.0
    out = {**summary.__dict__, "seconds": time.perf_counter() - started, "cpu_s": cpu_s() - cpu, "rss_mb": rss_mb()}
    out["requests"] = dsa.requests
    print(json.dumps({**out, "rate_limit_waited_s": waited}), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stats(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_double/stats", timeout=10).json()


def run_submitter(url: str, database_url: str, *, limit: int | None = None, single: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--submitter", url, database_url]
    args += ["--limit", str(limit)] if limit else []
    args += ["--single-path"] if single else []
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": "src:."})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="statements through the outbox (default 1,000,000)")
    parser.add_argument("--single", type=int, default=2000, help="statements for the one-per-request peer (default 2,000)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="SIGKILL the submitter when this share is held")
    parser.add_argument("--submitter", nargs=2, metavar=("URL", "DATABASE_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--single-path", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.submitter:
        submitter(*args.submitter, args.limit, single=args.single_path)
        return
    with tempfile.TemporaryDirectory(prefix="td-statements-") as tmp:
        database_url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(database_url)
        db = Database.from_url(database_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": "src:."}
        double = subprocess.Popen([sys.executable, "-m", "tests.doubles.dsa_database", str(port)], cwd=ROOT, env=env)
        try:
            for _ in range(200):
                try:
                    stats(url)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            total = args.n + args.single
            build_s, build_cpu, build_rss = build(db, total)
            print(
                f"built {total:,} statements in {build_s:.1f} s: {total / build_s:,.0f}/s "
                f"({total / build_cpu:,.0f} per CPU second), builder peak RSS {build_rss:.0f} MB"
            )

            peer = run_submitter(url, database_url, limit=args.single, single=True)
            peer_out = json.loads(peer.communicate()[0].splitlines()[-1])
            peer_rate = peer_out["submitted"] / peer_out["seconds"]
            print(f"one per request: {peer_out['submitted']:,} in {peer_out['seconds']:.1f} s: {peer_rate:,.0f}/s")

            held_before = stats(url)["held"]
            started = time.perf_counter()
            first = run_submitter(url, database_url)
            kill_when = held_before + int(args.n * args.kill_at)
            while first.poll() is None and stats(url)["held"] < kill_when:
                time.sleep(0.1)
            first.send_signal(signal.SIGKILL)
            first.wait()
            at_kill = stats(url)["held"] - held_before
            print(f"submitter SIGKILLed with {at_kill:,} of {args.n:,} held by the database")
            second = run_submitter(url, database_url)
            second_out = json.loads(second.communicate()[0].splitlines()[-1])
            submit_s = time.perf_counter() - started
            final = stats(url)
            held = final["held"] - held_before
            lost, rate = args.n - held, args.n / submit_s
            print(f"restarted: {json.dumps(second_out)}")
            print(
                f"submitted {held:,} in {submit_s:.1f} s (kill and restart included): {rate:,.0f}/s; double: {json.dumps(final)}"
            )
            end_to_end = args.n / (build_s * args.n / total + submit_s)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            submit_cpu = children.ru_utime + children.ru_stime - peer_out["cpu_s"]  # both submitter runs
            per_cpu = args.n / (build_cpu * args.n / total + submit_cpu)
            print(
                f"CPU: builder {build_cpu:.1f} s, submitters {submit_cpu:.1f} s: {args.n / submit_cpu:,.0f} submitted per CPU "
                f"second; end to end {per_cpu:,.0f} per CPU second of one core"
            )
            print(
                f"end to end {end_to_end:,.0f}/s (goal >= 5,000); batch path / one per request = {rate / peer_rate:,.1f}x; "
                f"lost {lost}, duplicated {final['duplicates_refused']}"
            )
            figures = {
                "n": args.n,
                "build_per_s": round(total / build_s),
                "submit_per_s": round(rate),
                "submit_per_cpu_s": round(args.n / submit_cpu),
                "end_to_end_per_cpu_s": round(per_cpu),
                "end_to_end_per_s": round(end_to_end),
                "single_per_s": round(peer_rate),
                "speedup": round(rate / peer_rate, 1),
                "lost": lost,
                "duplicated": final["duplicates_refused"],
                "recovered_after_kill": second_out["recovered"],
                "throttled": final["throttled"],
                "largest_batch": final["largest_batch"],
                "builder_rss_mb": round(build_rss),
                "submitter_rss_mb": round(second_out["rss_mb"]),
            }
            print(" ".join(f"{k}={v}" for k, v in figures.items()))
        finally:
            double.terminate()
            double.wait(timeout=10)
            db.dispose()


if __name__ == "__main__":
    main()
