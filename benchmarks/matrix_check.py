"""The added latency of Trustdesk's pre-send check on Matrix message sends.

Two real Synapse homeservers on loopback, one plain (the peer: Synapse as it ships) and one
with the Trustdesk module pointing at a live Trustdesk (on SQLite or PostgreSQL); one client
per server, sends alternating between the two so that both see the same machine load, and
we compare the medians. The module logs how long each check took to answer (its own round
trip to Trustdesk), which splits the overhead into "waiting for Trustdesk" and the rest.

    .venv/bin/python benchmarks/matrix_check.py [--messages 200] [--backend sqlite|postgresql]

Last line: key=value pairs including check_overhead_p50_ms and check_roundtrip_p50_ms.
benchmarks/takedown.py measures the same overhead on its own; `measure_sends` stays for
callers that time one server at a time."""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import _drop_postgres_database, _fresh_postgres_database  # noqa: E402
from tests.platform.matrix.conftest import MatrixUser, make_trustdesk, module_config  # noqa: E402
from tests.platform.matrix.synapse_server import SynapseServer  # noqa: E402

WARM_UP = 10
ROUNDTRIP = re.compile(r"check of \S+ answered in ([0-9.]+) ms")


def measure_sends(synapse: SynapseServer, count: int) -> list[float]:
    """Milliseconds per send for `count` sends by a fresh user on `synapse`, after a warm-up."""
    return measure_alternating([synapse], count)[0]


def measure_alternating(servers: list[SynapseServer], count: int) -> list[list[float]]:
    """Milliseconds per send on each server, sends taking turns between the servers."""
    senders = []
    for server in servers:
        user = MatrixUser(server, f"bench{time.time_ns() % 10**9}")
        senders.append((user, user.create_room()))
    times: list[list[float]] = [[] for _ in servers]
    for i in range(WARM_UP + count):
        for k, (user, room) in enumerate(senders):
            start = time.perf_counter()
            user.send(room, f"benchmark message {i}")
            if i >= WARM_UP:
                times[k].append((time.perf_counter() - start) * 1000)
    for user, _ in senders:
        user.close()
    return times


def check_roundtrips(synapse: SynapseServer) -> list[float]:
    """The module's own timings (milliseconds from asking Trustdesk to its answer), warm-up left out."""
    log = (synapse.data / "homeserver.log").read_text(errors="replace")
    return [float(ms) for ms in ROUNDTRIP.findall(log)][WARM_UP:]


def database_for(backend: str, work: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{work / 'trustdesk.db'}", None
    name = f"trustdesk_bench_{time.time_ns() % 10**9}"
    return _fresh_postgres_database(name), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="td-bench-"))
    url, pg_name = database_for(args.backend, work)
    trustdesk = make_trustdesk(url, work / "td")
    trustdesk.start()
    plain = SynapseServer(work / "plain")
    checked = SynapseServer(work / "checked", module_config=module_config(trustdesk, work / "checked"))
    try:
        plain.start()
        checked.start()
        without, with_module = measure_alternating([plain, checked], args.messages)
        roundtrips = check_roundtrips(checked)
    finally:
        plain.stop()
        checked.stop()
        trustdesk.stop()
        trustdesk.container.db.dispose()
        if pg_name:
            _drop_postgres_database(pg_name)
    p50_without, p50_with = statistics.median(without), statistics.median(with_module)
    roundtrip = f"{statistics.median(roundtrips):.2f}" if roundtrips else "nan"
    print(
        f"backend={args.backend} messages={args.messages} synapse_send_p50_ms={p50_without:.2f} "
        f"trustdesk_send_p50_ms={p50_with:.2f} check_roundtrip_p50_ms={roundtrip} "
        f"check_overhead_p50_ms={p50_with - p50_without:.2f} goal_check_overhead_p50_ms=10"
    )


if __name__ == "__main__":
    main()
