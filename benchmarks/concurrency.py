"""No request waits on another's CPU: the latency of GET /healthz and of a small lookup (GET
/api/v1/match/raw, one PDQ hash) while clients keep uploading 12-megapixel photos to the
lookup API (POST /api/v1/match/lookup: hashed and matched, not stored).

Peer in the same run: the same probes against the same server with no uploads running
(`idle`). Each backend is measured with the CPU pool of threads and of processes
(`cpu_pool`). Goal (issue 14): p99 <= 50 ms for both probes while 2 clients upload, on SQLite and
on PostgreSQL.

    .venv/bin/python benchmarks/concurrency.py                  # both backends, both pools, 20 s each
    .venv/bin/python benchmarks/concurrency.py --backend sqlite --cpu-pool thread --seconds 10

Starts a real server (`trustdesk serve`) in a subprocess per backend, on loopback, with a
fresh database (a SQLite file in a temporary folder; a PostgreSQL database on 127.0.0.1:5432
created and dropped by the run) and a token made by `trustdesk tokens create`. The photos are
made up front (gradients, shapes and noise, saved as JPEG at quality 90). Each
uploader is a process of its own, so that the clients do not share a GIL with the probes;
each probe sends one request every `--interval` seconds on a kept-alive connection. Prints
a table, PASS/FAIL per goal and a last line of key=value pairs; always exits 0."""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
TRUSTDESK = str(Path(sys.executable).with_name("trustdesk"))
PG_ADMIN_URL = os.environ.get("TRUSTDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
GOAL_P99_MS = 50.0
PROBE_PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


def photo(seed: int, width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG that hashes like a photo: smooth light and a few shapes (drawn at a quarter
    of the size and scaled up), with sensor-like noise at full size."""
    rng = np.random.default_rng(seed)
    w, h = width // 4, height // 4
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    small = np.empty((h, w, 3), np.float32)
    for c in range(3):
        a, b, phase = rng.uniform(-1, 1, 3)
        small[:, :, c] = 128 + 60 * np.sin(x / w * 3 * a + y / h * 3 * b + phase * 3)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(50, 220)
        small[(x - cx) ** 2 + (y - cy) ** 2 < r * r] += rng.uniform(-70, 70, 3)
    big = np.asarray(Image.fromarray(np.clip(small, 0, 255).astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC))
    noise = rng.integers(-8, 9, (h, w, 3), dtype=np.int16)
    noisy = np.clip(big.astype(np.int16) + np.tile(noise, (4, 4, 1)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- the server -----------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_server(backend: str, pool: str, folder: Path) -> tuple[Server, str | None]:
    """`trustdesk serve` on a fresh database; returns it and the PostgreSQL database to drop."""
    env = {**os.environ, "TRUSTDESK_DATA_DIR": str(folder), "TRUSTDESK_EMERGENCY_SWEEP_S": "0", "TRUSTDESK_CPU_POOL": pool}
    pg_name = None
    if backend == "postgresql":
        pg_name = f"trustdesk_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        env["TRUSTDESK_DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    subprocess.run([TRUSTDESK, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=300)
    made = subprocess.run(
        [TRUSTDESK, "tokens", "create", "bench", "-s", "match:lookup", "-s", "safety:read"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    token = made.stdout.strip().splitlines()[-1].strip()
    port, log = free_port(), folder / "server.log"
    process = subprocess.Popen(
        [TRUSTDESK, "serve", "--port", str(port)], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    server = Server(f"http://127.0.0.1:{port}", token, process, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server, pg_name
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("the server did not answer /healthz within 120 s")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- the load and the probes ----------------------------------------------------------------


def uploader(url: str, token: str, photos: list[bytes], stop: mp.Event, results: mp.Queue, offset: int) -> None:  # type: ignore[type-arg]
    """Upload photos one after another until `stop`; reports (uploads, errors, latencies)."""
    done, errors, latencies = 0, 0, []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        n = offset
        while not stop.is_set():
            start = time.perf_counter()
            try:
                response = client.post(
                    "/api/v1/match/lookup", files={"file": ("photo.jpg", photos[n % len(photos)], "image/jpeg")}
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            done, errors, n = done + ok, errors + (not ok), n + 1
    results.put((done, errors, latencies))


@dataclass
class Probe:
    name: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def run(self, url: str, token: str, seconds: float, interval: float) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            client.get(self.path, params=self.params)  # open the connection before timing
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                start = time.perf_counter()
                try:
                    ok = client.get(self.path, params=self.params).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - start
                self.latencies.append(elapsed)
                self.errors += not ok
                time.sleep(max(0.0, interval - elapsed))


def probes() -> list[Probe]:
    return [Probe("healthz", "/healthz"), Probe("lookup", "/api/v1/match/raw", {"signal_type": "pdq", "value": PROBE_PDQ})]


def measure(
    server: Server, *, seconds: float, interval: float, uploaders: int, photos: list[bytes]
) -> tuple[list[Probe], dict[str, float]]:
    context = mp.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=uploader, args=(server.url, server.token, photos, stop, results, i), daemon=True)
        for i in range(uploaders)
    ]
    for worker in workers:
        worker.start()
    if uploaders:
        time.sleep(3)  # the uploads under way (spawned, connected, first hashes running)
    running = probes()
    threads = [threading.Thread(target=p.run, args=(server.url, server.token, seconds, interval)) for p in running]
    started, cpu_before = time.monotonic(), cpu_seconds(server.process.pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed, server_cpu = time.monotonic() - started, cpu_seconds(server.process.pid) - cpu_before
    stop.set()
    done, errors, latencies = 0, 0, []
    for _ in workers:
        d, e, lat = results.get(timeout=180)
        done, errors, latencies = done + d, errors + e, latencies + lat
    for worker in workers:
        worker.join(30)
    load = {
        "uploads": done,
        "upload_errors": errors,
        "uploads_per_s": done / elapsed if uploaders else 0.0,
        "server_cpu_share": server_cpu / elapsed,
        "upload_p50_ms": percentile(latencies, 50) * 1e3 if latencies else 0.0,
    }
    return running, load


# -- the report -----------------------------------------------------------------------------


def row(backend: str, pool: str, phase: str, probe: Probe) -> dict[str, float | str]:
    ms = [v * 1e3 for v in probe.latencies]
    return {
        "backend": backend,
        "pool": pool,
        "phase": phase,
        "probe": probe.name,
        "n": len(ms),
        "errors": probe.errors,
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
    }


def print_table(rows: list[dict[str, float | str]]) -> None:
    print(
        f"{'backend':<11} {'pool':<8} {'phase':<12} {'probe':<8} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for r in rows:
        print(
            f"{r['backend']:<11} {r['pool']:<8} {r['phase']:<12} {r['probe']:<8} {r['n']:>5} {r['errors']:>4} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f}"
        )


def run_backend(
    backend: str, pool: str, args: argparse.Namespace, photos: list[bytes]
) -> tuple[list[dict[str, float | str]], dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix=f"td-bench-{backend}-") as tmp:
        server, pg_name = start_server(backend, pool, Path(tmp))
        try:
            idle, _ = measure(server, seconds=args.idle_seconds, interval=args.interval, uploaders=0, photos=photos)
            loaded, load = measure(server, seconds=args.seconds, interval=args.interval, uploaders=args.uploaders, photos=photos)
        finally:
            server.stop()
            if pg_name:
                drop_database(pg_name)
    phase = f"{args.uploaders} uploading"
    return [row(backend, pool, "idle", p) for p in idle] + [row(backend, pool, phase, p) for p in loaded], load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the probes run while the uploads do")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="how long the probes run with no uploads (the peer)")
    parser.add_argument("--cpu-pool", choices=["thread", "process", "both"], default="both", help="the server's cpu_pool setting")
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--photos", type=int, default=4, help="distinct 12 MP photos, uploaded in turn")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between one probe's requests")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    pools = ["thread", "process"] if args.cpu_pool == "both" else [args.cpu_pool]

    started = time.perf_counter()
    photos = [photo(seed) for seed in range(args.photos)]
    print(
        f"{len(photos)} photos of 4000x3000 px, {sum(map(len, photos)) / len(photos) / 1e6:.1f} MB on average "
        f"(made in {time.perf_counter() - started:.1f} s); {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows, loads = [], {}
    for backend in backends:
        for pool in pools:
            backend_rows, load = run_backend(backend, pool, args, photos)
            rows, loads[f"{backend}_{pool}"] = rows + backend_rows, load
            print(
                f"{backend}, {pool} pool: {load['uploads']} uploads in the loaded phase ({load['uploads_per_s']:.2f}/s, p50 {load['upload_p50_ms']:.0f} ms, "
                f"{load['upload_errors']} errors); the server process used {load['server_cpu_share']:.2f} CPUs "
                f"(its own threads; a process pool's workers not counted)",
                flush=True,
            )
    print()
    print_table(rows)
    print()
    summary = []
    for r in rows:
        if r["phase"] == "idle":
            continue
        verdict = "PASS" if r["p99"] <= GOAL_P99_MS and not r["errors"] else "FAIL"
        print(
            f"{verdict}  {r['backend']} {r['pool']} pool, {r['probe']}: p99 {r['p99']:.1f} ms while {args.uploaders} clients upload (goal <= {GOAL_P99_MS:.0f} ms)"
        )
        summary.append(f"{r['backend']}_{r['pool']}_{r['probe']}_p99_ms={r['p99']:.1f}")
    for r in rows:
        if r["phase"] == "idle":
            summary.append(f"{r['backend']}_{r['pool']}_{r['probe']}_idle_p99_ms={r['p99']:.1f}")
    for name, load in loads.items():
        summary.append(f"{name}_uploads_per_s={load['uploads_per_s']:.2f}")
    met = all(r["p99"] <= GOAL_P99_MS and not r["errors"] for r in rows if r["phase"] != "idle")
    print(" ".join(summary + [f"goal_met={met}"]))


if __name__ == "__main__":
    main()
