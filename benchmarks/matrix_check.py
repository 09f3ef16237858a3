"""The added latency of Trustdesk's pre-send check on Matrix message sends.

Two real Synapse homeservers on loopback, one plain (the peer: Synapse as it ships) and one
with the Trustdesk module pointing at a live Trustdesk; the same client sends N messages to
each, and we compare the medians. benchmarks/takedown.py will reuse `measure_sends`.

    .venv/bin/python benchmarks/matrix_check.py [--messages 200]

Last line: key=value pairs including check_overhead_p50_ms."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import _drop_postgres_database, _fresh_postgres_database  # noqa: E402
from tests.platform.matrix.conftest import MatrixUser, make_trustdesk, module_config  # noqa: E402
from tests.platform.matrix.synapse_server import SynapseServer  # noqa: E402


def measure_sends(synapse: SynapseServer, count: int) -> list[float]:
    user = MatrixUser(synapse, f"bench{int(time.time() * 1000) % 100000}")
    room = user.create_room()
    for i in range(10):  # warm up connections and caches
        user.send(room, f"warm-up {i}")
    times = []
    for i in range(count):
        start = time.perf_counter()
        user.send(room, f"benchmark message {i}")
        times.append((time.perf_counter() - start) * 1000)
    user.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="td-bench-"))
    # PostgreSQL: concurrent API requests on the embedded SQLite can deadlock in the foundation's
    # async authentication dependency (reported); the check path itself is database-agnostic.
    db_name = f"trustdesk_bench_{int(time.time())}"
    trustdesk = make_trustdesk(_fresh_postgres_database(db_name), work / "td")
    trustdesk.start()
    plain = SynapseServer(work / "plain")
    checked = SynapseServer(work / "checked", module_config=module_config(trustdesk, work / "checked"))
    try:
        plain.start()
        checked.start()
        without = measure_sends(plain, args.messages)
        with_module = measure_sends(checked, args.messages)
    finally:
        plain.stop()
        checked.stop()
        trustdesk.stop()
        trustdesk.container.db.dispose()
        _drop_postgres_database(db_name)
    p50_without, p50_with = statistics.median(without), statistics.median(with_module)
    print(f"synapse_send_p50_ms={p50_without:.2f} trustdesk_send_p50_ms={p50_with:.2f} "
          f"check_overhead_p50_ms={p50_with - p50_without:.2f} messages={args.messages}")


if __name__ == "__main__":
    main()
