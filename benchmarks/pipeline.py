"""Pipeline throughput: text and media-hash events through ingest, signals and 100 rules
(half of them keyword or pattern rules) to verdicts, committed to the database.

Runs:
  embedded    in-process bus, one worker in this process (one core), SQLite file; run
              --repeat times interleaved with the shadow run; events/s (wall) and events
              per CPU second of this process (the steadier figure on a shared machine)
  naive       the same, with the engine's guards off (every rule called for every event):
              the in-run peer, i.e. what a plain rule loop over the same compiled rules costs
  shadow      the same 100 rules, all in shadow mode (hits recorded, no effects); its
              overhead compares the best CPU rates of the interleaved runs
  workers_1/2 NATS JetStream, 1 and 2 `trustdesk pipeline worker` processes, on PostgreSQL
              when it is reachable (else SQLite); events are published first, and the rate is
              events / (last handled_at - first handled_at), so process start-up is not counted;
              --worker-repeat (2) interleaved runs of each, the best of each reported

Last line: key=value pairs: events_per_s workers_1 workers_2 scaling_2_over_1
events_per_cpu_s shadow_overhead_pct naive_events_per_cpu_s guard_speedup events rules
keyword_rules hit_rate nats_db.

    .venv/bin/python benchmarks/pipeline.py             # 20,000 events
    .venv/bin/python benchmarks/pipeline.py --quick     # 5,000 events, no NATS runs
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from sqlalchemy import create_engine, func, select, text

from trustdesk.core import migrate
from trustdesk.core.audit import Actor
from trustdesk.core.bus import InProcessBus
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.safety.pipeline import ingest
from trustdesk.safety.pipeline.handling import Handler
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.pipeline.worker import Worker
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.rules.book import RuleBook

PG_ADMIN = os.environ.get("TRUSTDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NATS_URL = "nats://127.0.0.1:4222"
VOCAB = [f"w{i:04d}" for i in range(4000)]
BAD = [f"bad{i:03d}" for i in range(600)]  # the listed words; about 3 % of messages carry one
RNG = random.Random(7)


# -- the workload ------------------------------------------------------------------------


def rule_file(mode: str = "live") -> str:
    """100 rules: 30 keyword-list rules, 20 pattern rules, 50 others (kind checks, counters,
    labels, length, classifier, hash matches)."""
    lines = ['ruleset "bench" version 1']
    for i in range(30):
        words = ", ".join(f'"{w}"' for w in BAD[i * 20 : (i + 1) * 20])
        lines.append(f'list l{i} = [{words}, "bad phrase {i}"]')
    rules = []
    for i in range(30):
        label = f', add_label(event.actor, "kw{i}", expires=1h)' if i < 10 else ""
        rules.append((f'event.kind == "message" and contains_any(event.text, l{i})', f'verdict("kw{i}"){label}'))
    for i in range(20):
        # a raw '...' string: RE2 gets the backslashes as written (doubled, they matched a literal backslash and never hit)
        rules.append(
            (
                f"event.kind == \"message\" and matches(event.text, '(?:pay|send)\\s+{i}\\d{{2}}\\s*(?:eur|usd)')",
                f'verdict("pattern{i}")',
            )
        )
    for i in range(10):
        rules.append(
            (f'event.kind == "message" and count("message", event.actor, {i + 1}m) > {40 + i * 10}', f'verdict("flood{i}")')
        )
    for i in range(10):
        rules.append(
            (
                f'event.kind == "message" and has_label(event.actor, "kw{i}") and length(event.text) > {60 + i}',
                f'verdict("repeat{i}")',
            )
        )
    for i in range(10):
        rules.append(
            (f'event.kind in ["message", "media"] and hash_match("bank{i % 3}", max_distance={10 + i})', f'verdict("hash{i}")')
        )
    for i in range(5):
        rules.append(
            (
                f'event.kind == "message" and length(event.text) > 20 and classify("spam", event.text) > 0.{90 + i}',
                f'verdict("spam{i}")',
            )
        )
    for i in range(5):
        rules.append((f'event.kind == "media" and event.media_count > {i + 2}', f'verdict("many_media{i}")'))
    for i in range(9):
        rules.append(
            (
                f'event.kind == "message" and event.chat_kind == "channel" and length(event.text) > {200 + i}',
                f'verdict("long{i}")',
            )
        )
    rules.append(
        (
            'event.kind == "message" and hash_match("csam_verified")',
            'take_action(action="remove_message", policy="child_sexual_exploitation"), verdict("csam")',
        )
    )
    rules = rules[:100]
    for n, (when, then) in enumerate(rules):
        lines.append(f"rule r{n} {{\n  version 1\n  mode {mode}\n  when {when}\n  then {then}\n}}")
    return "\n".join(lines) + "\n"


def random_pdq() -> str:
    return RNG.getrandbits(256).to_bytes(32, "big").hex()


def near(pdq: str, bits: int) -> str:
    value = int(pdq, 16)
    for bit in RNG.sample(range(256), bits):
        value ^= 1 << bit
    return value.to_bytes(32, "big").hex()


def matcher_and_targets() -> tuple[InMemoryHashMatcher, list[str], list[tuple[str, str, str]]]:
    """Three banks of 10,000 random hashes; events hit near 50 of each."""
    matcher, targets, rows = InMemoryHashMatcher(), [], []
    for bank in range(3):
        entries = [(f"b{bank}-{i}", random_pdq()) for i in range(10_000)]
        matcher.add_pdq(f"bank{bank}", entries)
        targets += [pdq for _, pdq in entries[:50]]
        rows += [(f"bank{bank}", e, p) for e, p in entries]
    return matcher, targets, rows


def events(n: int, targets: list[str], start: datetime) -> list[dict]:
    out = []
    for i in range(n):
        actor = f"u{RNG.randrange(2000)}"
        at = (start + timedelta(milliseconds=i * 5)).isoformat()
        if i % 5 == 4:  # one in five: a media upload with its hashes
            pdq = near(RNG.choice(targets), RNG.randrange(0, 20)) if RNG.random() < 0.1 else random_pdq()
            out.append(
                {"id": f"ev{i}", "kind": "media", "occurred_at": at, "actor": actor, "media": [{"media_id": f"x{i}", "pdq": pdq}]}
            )
            continue
        words = RNG.choices(VOCAB, k=RNG.randrange(6, 18))
        if RNG.random() < 0.03:
            words.append(RNG.choice(BAD))
        if RNG.random() < 0.01:
            words.append(f"pay {RNG.randrange(20)}{RNG.randrange(10, 99)} eur")
        out.append(
            {
                "id": f"ev{i}",
                "kind": "message",
                "occurred_at": at,
                "actor": actor,
                "message": f"m{i}",
                "chat": f"c{i % 50}",
                "chat_kind": "group",
                "text": " ".join(words),
            }
        )
    return out


# -- runs --------------------------------------------------------------------------------


def fresh_sqlite(directory: Path, name: str) -> str:
    url = f"sqlite:///{directory / name}.db"
    migrate.upgrade(url)
    return url


def prepare(url: str) -> Database:
    db = Database.from_url(url)
    with db.transaction() as session:
        ensure_queues(session, actor=Actor("bench", "pipeline"), clock=SystemClock())
    return db


def embedded(
    url: str, rules_dir: Path, batch: list[dict], matcher: InMemoryHashMatcher, *, guards: bool = True
) -> tuple[float, float, int]:
    """(events per wall second, events per CPU second of this process, rule hits). On a
    shared machine the CPU figure is the steadier measure of one core's throughput."""
    db = prepare(url)
    book = RuleBook(rules_dir, check_every=3600)
    if not guards:
        _strip_guards(book)
    handler = Handler(db=db, clock=SystemClock(), book=book, hashes=matcher, worker="bench")
    bus = InProcessBus(prefix="bench")
    worker = Worker(bus, handler, batch=500, threaded=False)

    async def go() -> None:
        for start in range(0, len(batch), 1000):
            await ingest.submit(bus, ingest.validate(batch[start : start + 1000]))
            await worker.drain(idle_timeout=0)

    gc.collect()
    gc.freeze()  # as `trustdesk pipeline worker` does
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(go())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with db.transaction() as session:
        handled = session.scalar(select(func.count()).select_from(HandledEvent)) or 0
    db.dispose()
    assert handled == len(batch), (handled, len(batch))
    return len(batch) / elapsed, len(batch) / cpu, worker.stats.hits


def _strip_guards(book: RuleBook) -> None:
    """The peer: every rule's whole condition called for every event, no planning."""
    from dataclasses import replace

    from trustdesk.safety.pipeline.events import EventKind
    from trustdesk.safety.rules.ruleset import Plan

    current = book.current()
    rules = tuple(
        replace(r, kinds=None, required_lists=(), required_fields=(), required_patterns=(), when=r.whole) for r in current.rules
    )
    plan = Plan(plain=rules)
    book._current = replace(
        current,
        rules=rules,
        by_kind={k.value: rules for k in EventKind},
        plans={k.value: plan for k in EventKind},  # noqa: SLF001
        order={id(r): i for i, r in enumerate(rules)},
    )


def postgres_url(label: str) -> str | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"trustdesk_bench_{label}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    return url


def drop_postgres(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


async def publish(prefix: str, batch: list[dict]) -> None:
    from trustdesk.core.bus.nats import NatsBus

    async with NatsBus(NATS_URL, prefix=prefix) as bus:
        for start in range(0, len(batch), 2000):
            await ingest.submit(bus, ingest.validate(batch[start : start + 2000]))


async def destroy(prefix: str) -> None:
    from trustdesk.core.bus.nats import NatsBus

    async with NatsBus(NATS_URL, prefix=prefix) as bus:
        await bus.destroy()


def nats_run(workers: int, batch: list[dict], rules_dir: Path, hash_list: Path, work: Path) -> tuple[float, str]:
    work.mkdir(parents=True, exist_ok=True)
    url = postgres_url(f"w{workers}")
    kind = "postgresql" if url else "sqlite"
    url = url or fresh_sqlite(work, f"nats{workers}")
    prepare(url).dispose()
    prefix = f"bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(publish(prefix, batch))
    env = {
        **os.environ,
        "TRUSTDESK_DATABASE_URL": url,
        "TRUSTDESK_DATA_DIR": str(work),
        "TRUSTDESK_BUS": "nats",
        "TRUSTDESK_NATS_URL": NATS_URL,
        "TRUSTDESK_PIPELINE_PREFIX": prefix,
        # The rules act, as in the embedded run (the promotion gate would hold every new version in shadow).
        "TRUSTDESK_AUTOMATION_REQUIRES_PROMOTION": "false",
    }
    (work / "rules").mkdir(exist_ok=True)
    shutil.copy(rules_dir / "bench.rules", work / "rules" / "bench.rules")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "trustdesk",
                "pipeline",
                "worker",
                "--name",
                f"w{i}",
                "--batch",
                "500",
                "--hash-list",
                str(hash_list),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    db = Database.from_url(url)
    try:
        deadline = time.monotonic() + 600
        while True:
            with db.transaction() as session:
                done = session.scalar(select(func.count()).select_from(HandledEvent)) or 0
            if done >= len(batch) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with db.transaction() as session:
            first, last = session.execute(select(func.min(HandledEvent.handled_at), func.max(HandledEvent.handled_at))).one()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        db.dispose()
        asyncio.run(destroy(prefix))
        if kind == "postgresql":
            drop_postgres(url)
    seconds = max((last - first).total_seconds(), 1e-6)
    return done / seconds, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="5,000 events and no NATS runs")
    parser.add_argument(
        "--repeat", type=int, default=3, help="interleaved live and shadow runs; the best and the median are shown"
    )
    parser.add_argument(
        "--worker-repeat", type=int, default=2, help="interleaved 1- and 2-worker NATS runs; the best of each is reported"
    )
    args = parser.parse_args()
    n = 5_000 if args.quick else args.events
    work = Path(tempfile.mkdtemp(prefix="trustdesk-bench-"))
    try:
        matcher, targets, rows = matcher_and_targets()
        hash_list = work / "hashes.jsonl"
        hash_list.write_text("".join(json.dumps({"bank": b, "entry_id": e, "pdq": p}) + "\n" for b, e, p in rows))
        batch = events(n, targets, datetime.now(UTC) - timedelta(hours=1))
        live_dir, shadow_dir = work / "live", work / "shadow"
        for directory, mode in ((live_dir, "live"), (shadow_dir, "shadow")):
            directory.mkdir()
            RNG.seed(11)
            (directory / "bench.rules").write_text(rule_file(mode))
        book = RuleBook(live_dir)
        assert not book.status().problems, book.status().problems
        rules = book.current().rules
        keyword_rules = sum(1 for r in rules if "contains_any" in r.source or "matches(" in r.source)
        embedded(fresh_sqlite(work, "warm"), live_dir, batch[:1000], matcher)  # imports, caches
        live, shadow = [], []
        for run in range(args.repeat):  # live and shadow interleaved, so both meet the same load
            live.append(embedded(fresh_sqlite(work, f"live{run}"), live_dir, batch, matcher))
            shadow.append(embedded(fresh_sqlite(work, f"shadow{run}"), shadow_dir, batch, matcher))
        rate, cpu_rate, hits = max(live, key=lambda r: r[1])
        print(
            f"embedded: best {rate:,.0f} events/s wall, {cpu_rate:,.0f} per CPU second; median {median(r[0] for r in live):,.0f} wall, "
            f"{median(r[1] for r in live):,.0f} CPU over {args.repeat} runs ({hits} rule hits over {n} events)"
        )
        naive, naive_cpu, _ = embedded(fresh_sqlite(work, "naive"), live_dir, batch, matcher, guards=False)
        print(
            f"peer, the same rules unplanned (every whole condition for every event): {naive:,.0f} events/s wall, {naive_cpu:,.0f} per CPU second"
        )
        shadow_cpu = max(r[1] for r in shadow)
        overhead = (cpu_rate / shadow_cpu - 1) * 100
        print(
            f"shadow: best {shadow_cpu:,.0f} events per CPU second, median {median(r[1] for r in shadow):,.0f} ({overhead:+.1f}% CPU time against live)"
        )
        w1 = w2 = 0.0
        kind = "none"
        if not args.quick:
            ones, twos = [], []
            for run in range(args.worker_repeat):  # interleaved, so both meet the same load
                one, kind = nats_run(1, batch, live_dir, hash_list, work / f"n1-{run}")
                ones.append(one)
                print(f"NATS, 1 worker ({kind}): {one:,.0f} events/s")
                two, kind = nats_run(2, batch, live_dir, hash_list, work / f"n2-{run}")
                twos.append(two)
                print(f"NATS, 2 workers ({kind}): {two:,.0f} events/s")
            w1, w2 = max(ones), max(twos)
            print(
                f"NATS, best of {args.worker_repeat}: 1 worker {w1:,.0f}, 2 workers {w2:,.0f} events/s ({w2 / w1:.2f}x; "
                f"{os.cpu_count()} cores shared with nats-server and the database)"
            )
        print(
            " ".join(
                [
                    f"events_per_s={rate:.0f}",
                    f"workers_1={w1:.0f}",
                    f"workers_2={w2:.0f}",
                    f"scaling_2_over_1={w2 / w1 if w1 else 0:.2f}",
                    f"events_per_cpu_s={cpu_rate:.0f}",
                    f"shadow_overhead_pct={overhead:.1f}",
                    f"naive_events_per_cpu_s={naive_cpu:.0f}",
                    f"guard_speedup={cpu_rate / naive_cpu:.2f}",
                    f"events={n}",
                    f"rules={len(rules)}",
                    f"keyword_rules={keyword_rules}",
                    f"hit_rate={hits / n:.3f}",
                    f"nats_db={kind}",
                ]
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
