"""`trustdesk emergency`: the lane from the terminal: what is open, one sweep, the worker."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, state
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency import service

app = typer.Typer(help="The emergency lane: TCO one-hour removals, threat-to-life notifications, paging.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Everything open in the lane, nearest deadline first."""
    container = state(ctx).container
    with container.db.transaction() as session:
        view = service.overview(session, now=container.clock.now())
        table = Table("what", "reference", "state", "time left")
        for row in view.removals:
            table.add_row("TCO removal", row.reference, row.removal.state, row.time_left)
        for case in view.threats:
            table.add_row("threat to life", f"case {case.id}", case.state, ", ".join(r["key"] for r in case.recipients))
        for page in view.pages:
            table.add_row("page", f"page {page.id}", page.state, page.subject)
    console.print(table if view.open_count else "[green]Nothing open in the emergency lane.[/]")


@app.command("run")
def run(
    ctx: typer.Context,
    every: Annotated[float, typer.Option(help="Seconds between sweeps; 0 runs one sweep and exits.")] = 0.0,
) -> None:
    """Sweep: take in TCO orders not yet handled, page near or missed deadlines, escalate pages."""
    container = state(ctx).container
    lane = lane_runner.lane_of(container)
    assert lane is not None
    while True:
        taken = lane_runner.tick(container.db, lane=lane)
        console.print(f"{taken} order(s) taken in")
        if every <= 0:
            return
        time.sleep(every)
