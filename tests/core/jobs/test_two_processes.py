"""Two real worker processes (`trustdesk jobs run`) on one database elect one runner per tick
(issue #21: "with several processes, one leader per job elected through the database").
The job is the privacy room's retention run, which writes one audit entry per run: with the
election each tick is run once; two processes that both ran every tick would leave twice as
many entries over the same span. Both databases (SQLite: a file both processes open;
PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from tests.waiting import patience
from trustdesk.core import migrate
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.database import Database
from trustdesk.core.jobs.models import JobState
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.privacy.jobs import RETENTION
from trustdesk.web.jobs import registered_jobs

EVERY = 2.0  # seconds between the job's ticks
RUNS = 5  # runs to wait for


def _env(url: str, data_dir: Path, names: list[str]) -> dict[str, str]:
    every = {name: 0.0 for name in names} | {RETENTION: EVERY}
    return {
        **os.environ,
        "TRUSTDESK_DATABASE_URL": url,
        "TRUSTDESK_DATA_DIR": str(data_dir),
        "TRUSTDESK_JOBS_EVERY_S": json.dumps(every),
        "TRUSTDESK_JOBS_POLL_S": "0.2",
    }


def test_two_worker_processes_run_each_tick_once(fresh_database_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database_url("two_workers")
    migrate.upgrade(url)
    settings = load_settings(data_dir=tmp_path, database_url=url)
    db = Database.from_url(settings.sqlalchemy_url)
    names = [
        job.name
        for job in registered_jobs(
            Container(settings=settings, db=db, platform=DemoPlatform.from_url(f"sqlite:///{tmp_path / 'demo.db'}"))
        )
    ]
    env = _env(url, tmp_path, names)
    logs = [tmp_path / f"worker{i}.log" for i in (1, 2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "trustdesk", "jobs", "run"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        for log in logs
    ]

    def runs() -> list[AuditEntry]:
        with db.transaction() as session:
            return list(
                session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.retention.run").order_by(AuditEntry.seq))
            )

    try:
        deadline = time.monotonic() + patience(180)
        while len(runs()) < RUNS:
            for worker, log in zip(workers, logs, strict=True):
                assert worker.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "no retention runs: " + "\n".join(
                f.read_text(errors="replace")[-1000:] for f in logs
            )
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    entries = runs()
    # Ticks lie on the job's grid, every EVERY seconds; a run can start late (a poll, a loaded
    # machine), so two runs may be closer than EVERY, but never two on one grid point: over the
    # span of the runs there is at most one per grid point (and one more for a late first run).
    # Two processes that each ran every tick would leave about twice as many.
    span = (entries[-1].at - entries[0].at).total_seconds()
    assert len(entries) <= span / EVERY + 2, f"{len(entries)} runs in {span:.1f} s: some tick ran twice"
    with db.transaction() as session:
        row = session.scalars(select(JobState).where(JobState.name == RETENTION)).one()
    assert row.failures == 0, "\n".join(f.read_text(errors="replace")[-3000:] for f in logs)
    assert row.runs == len(entries)  # every run left its audit entry, none twice
    # and both processes took part in the election (each started and polled; one or both won ticks)
    assert all("jobs worker" in log.read_text(errors="replace") for log in logs)
    db.dispose()
