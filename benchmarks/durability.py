"""Durability under SIGKILL: accepted requests per second and requests lost.

A real `trustdesk serve` (embedded bus with its journal) on a SQLite file and on
PostgreSQL (when 127.0.0.1:5432 answers) takes concurrent bursts of pipeline event batches
(20 events a request), notices and lawful requests over loopback HTTP. Each backend runs:

  steady   one burst to the end, no kill: the baseline rate of the same mix
  killed   --rounds bursts, each SIGKILLed once --kill-after ids were answered 2xx, then
           restarted; every id answered 2xx is checked to be stored (events: handled,
           exactly once) after the restart

Goal: 0 lost, 0 doubled. Bounded: every burst is --clients x --per-client requests.

Last line: key=value pairs per backend: <db>_steady_per_s <db>_killed_per_s <db>_accepted
<db>_lost <db>_doubled.

    .venv/bin/python benchmarks/durability.py                # 4 clients x 150, 3 killed rounds
    .venv/bin/python benchmarks/durability.py --quick        # 4 x 45, 1 round, SQLite only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.durability import Deployment, burst, lost, summary  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_database() -> tuple[str, str] | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"trustdesk_bench_durability_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # no server: the SQLite figures still stand
        print(f"PostgreSQL not reachable ({type(exc).__name__}); SQLite only")
        return None
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_backend(label: str, url_of: Callable[[Path], str], args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"td-durability-{label}-") as tmp:
        deployment = Deployment(data_dir=Path(tmp), database_url=url_of(Path(tmp)))
        deployment.prepare()
        deployment.start()
        try:
            steady = burst(deployment, clients=args.clients, per_client=args.per_client)
            print(f"{label:10} steady      {summary(steady)}")
            accepted = lost_n = doubled = 0
            rates = []
            for round_ in range(1, args.rounds + 1):
                result = burst(deployment, clients=args.clients, per_client=args.per_client, kill_after=args.kill_after)
                deployment.start()
                missing = lost(deployment, result.accepted)
                n_lost = sum(len(missing[k]) for k in ("event", "notice", "request"))
                n_doubled = len(missing.get("event_doubled", []))
                accepted, lost_n, doubled = accepted + result.total(), lost_n + n_lost, doubled + n_doubled
                rates.append(summary(result)["accepted_per_s"])
                print(f"{label:10} killed #{round_}   {summary(result)} lost={n_lost} doubled={n_doubled}")
        finally:
            deployment.stop()
    return {
        f"{label}_steady_per_s": summary(steady)["accepted_per_s"],
        f"{label}_killed_per_s": round(sum(rates) / len(rates), 1),
        f"{label}_accepted": accepted,
        f"{label}_lost": lost_n,
        f"{label}_doubled": doubled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kill-after", type=int, default=400, help="ids answered 2xx before the SIGKILL")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.per_client, args.rounds, args.kill_after = 45, 1, 150
    figures = run_backend("sqlite", lambda tmp: f"sqlite:///{tmp / 'trustdesk.db'}", args)
    pg = None if args.quick else _pg_database()
    if pg is not None:
        try:
            figures |= run_backend("postgresql", lambda _tmp: pg[1], args)
        finally:
            _drop(pg[0])
    total_lost = sum(v for k, v in figures.items() if k.endswith(("_lost", "_doubled")))
    print(f"goal 0 lost, 0 doubled: {'PASS' if total_lost == 0 else 'FAIL'}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
