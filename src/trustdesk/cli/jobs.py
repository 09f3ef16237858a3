"""`trustdesk jobs`: the scheduled jobs from the terminal: a worker that runs them, and their
record (last run, next run, failures), read from the database so it shows every process's."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, state
from trustdesk.core.jobs.scheduler import states
from trustdesk.emergency import lane as emergency_lane
from trustdesk.web.jobs import registered_jobs, scheduler_for

app = typer.Typer(
    help="Scheduled jobs: alerts, purges, hold releases, exchange fetches, checkpoints, the emergency sweep.",
    no_args_is_help=True,
)


@app.command("run")
def run(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run every enabled job once now, due or not, and exit (one a live holder runs is skipped)."),
    ] = False,
) -> None:
    """A worker: poll every jobs_poll_s seconds and run each due job whose tick this process
    wins (any number of workers and servers may run; each tick runs once)."""
    container = state(ctx).container
    emergency_lane.install_for(container)  # a TCO order this worker's sweep completes is taken in at once
    scheduler = scheduler_for(container)
    if once:
        for outcome in scheduler.run_due(now_anyway=True):
            what = outcome.summary if outcome.ok else f"[red]failed[/]: {outcome.error}"
            console.print(f"{outcome.name} (tick {outcome.tick}, {outcome.duration_ms} ms): {what}")
        return
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    enabled = [job.name for job in scheduler.jobs.values() if job.enabled]
    console.print(f"jobs worker {scheduler.holder}: {', '.join(enabled) or 'no job enabled'}")
    scheduler.start()
    stopped.wait()
    scheduler.stop()


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Every job: its interval, last run and outcome, next run, failures."""
    container = state(ctx).container
    rows = {row.name: row for row in states(container.db)}
    table = Table("job", "every", "last run", "outcome", "took", "next run", "runs", "failures")
    for job in registered_jobs(container):
        row = rows.get(job.name)
        every = f"{job.every_s:g} s" if job.enabled else "off"
        if row is None:
            table.add_row(job.name, every, "never", "—", "—", "—", "0", "0")
            continue
        outcome = row.last_outcome or "—"
        if row.last_error:
            outcome = f"{outcome}: {row.last_error}"
        took = f"{row.last_duration_ms} ms" if row.last_duration_ms is not None else "—"
        last = row.last_finished_at.isoformat() if row.last_finished_at else "never"
        table.add_row(job.name, every, last, outcome, took, row.next_run_at.isoformat(), str(row.runs), str(row.failures))
    console.print(table)
