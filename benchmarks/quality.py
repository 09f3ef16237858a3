"""The quality draw and figures at volume: N decided cases (half notices, a quarter each of
rule and bank cases; 80 % actions) and N/4 automated actions in one week, then a sampling
rule (5 %, minimum 50 a week), the draw, and the figures of the interval.

Peer in the same run: a plain read of the same decisions (`SELECT decisions JOIN cases`,
rows fetched, nothing computed), which the draw cannot beat since it reads them too; the
ratio says what the hashing, matching and writing of samples cost on top.

    PYTHONPATH=src .venv/bin/python benchmarks/quality.py [--n 100000]

SQLite file in a temporary directory. The last line is key=value pairs."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from trustdesk.core import migrate  # noqa: E402
from trustdesk.core.audit import Actor  # noqa: E402
from trustdesk.core.clock import FrozenClock  # noqa: E402
from trustdesk.core.database import Database, make_engine  # noqa: E402
from trustdesk.safety.enforcement.models import EnforcementAction  # noqa: E402
from trustdesk.safety.quality import metrics, sampling  # noqa: E402
from trustdesk.safety.quality.models import SamplingRule  # noqa: E402
from trustdesk.safety.review import service as review  # noqa: E402
from trustdesk.safety.review.models import Case, Decision  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
ACTOR = Actor("bench", "quality")
SOURCES = ("notice", "notice", "rule", "hash_match")
POLICIES = ("illegal_goods", "spam", "harassment", "scams")


def seed(db: Database, n: int) -> None:
    clock = FrozenClock(START)
    with db.transaction() as s:
        review.ensure_queues(s, actor=ACTOR, clock=clock)
    step = timedelta(days=6) / max(n, 1)
    cases, decisions, actions = [], [], []
    for i in range(n):
        at = START + step * i
        source = SOURCES[i % 4]
        ref = {"rule": f"demo/r{i % 3}@v{1 + i % 2}", "hash_match": f"bank:{i % 5}/entry:{i}"}.get(source)
        cases.append(
            dict(
                id=i + 1,
                subject_kind="message",
                subject_id=f"m{i}",
                queue="general",
                priority=10,
                state="decided",
                source=source,
                sources=[source],
                reason="r",
                rule_ref=ref,
                signals={},
                policy_hint=None,
                language=None,
                trusted_flagger=False,
                reports=1,
                opened_at=at - timedelta(hours=3),
                due_at=at,
                decided_at=at,
                outcome="action" if i % 5 else "no_action",
            )
        )
        decisions.append(
            dict(
                id=i + 1,
                case_id=i + 1,
                decided_by=f"staff:r{i % 40}",
                decided_at=at,
                outcome="action" if i % 5 else "no_action",
                policy=POLICIES[i % 4] if i % 5 else None,
                legal_ground=None,
                action=None,
                territorial_scope=None,
                until=None,
                reason="x",
                action_id=None,
                bulk_ref=None,
            )
        )
        if i % 4 == 0:
            actions.append(
                dict(
                    subject_kind="message",
                    subject_id=f"a{i}",
                    account_id=None,
                    action="remove_message",
                    policy=POLICIES[i % 4],
                    policy_version="1",
                    decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
                    legal_ground=None,
                    automated=True,
                    source="hash_match",
                    reason="x",
                    rule_ref=f"bank:{i % 5}/entry:{i}",
                    territorial_scope=None,
                    until=None,
                    case_id=None,
                    caused_by_id=None,
                    actor="rule:bank",
                    acted_at=at,
                    platform_ok=True,
                    platform_detail="ok",
                    platform_ref=None,
                )
            )
    with db.transaction() as s:
        for table, rows in ((Case, cases), (Decision, decisions), (EnforcementAction, actions)):
            for k in range(0, len(rows), 5000):
                s.execute(insert(table), rows[k : k + 5000])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        db = Database(engine)
        seed(db, args.n)
        end = START + timedelta(days=6, hours=1)
        clock = FrozenClock(end)
        with db.transaction() as s:
            s.add(
                SamplingRule(
                    name="5 %",
                    share=0.05,
                    minimum=50,
                    period="week",
                    active_from=START - timedelta(days=1),
                    created_by="bench",
                    created_at=START,
                )
            )
        t0 = time.perf_counter()
        with db.transaction() as s:
            peer_rows = len(
                s.execute(
                    select(Decision.id, Decision.decided_by, Case.source, Case.rule_ref).join(Case, Case.id == Decision.case_id)
                ).all()
            )
        peer_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.transaction() as s:
            drawn = len(sampling.draw_samples(s, actor=ACTOR, clock=clock))
        draw_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.transaction() as s:
            m = metrics.compute(s, start=START, end=end)
        metrics_s = time.perf_counter() - t0
        engine.dispose()
    decided = args.n + args.n // 4
    print(f"decisions={decided} sampled={drawn} (rule: 5 %, minimum 50 a week) policies={len(m.by_policy)}")
    print(f"peer (read decisions only): {peer_rows} rows in {peer_s:.2f} s; draw {draw_s:.2f} s; figures {metrics_s:.2f} s")
    print(
        f"n={decided} drawn={drawn} draw_s={draw_s:.3f} draw_per_s={decided / draw_s:.0f} peer_read_s={peer_s:.3f} "
        f"ratio={draw_s / peer_s:.2f} metrics_s={metrics_s:.3f}"
    )


if __name__ == "__main__":
    main()
