"""`trustdesk matrix ...`: the Matrix (Synapse) connector's jobs."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from trustdesk.cli.context import console, err_console, operator, state
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.port import PlatformError
from trustdesk.safety.reports import matrix as reports

app = typer.Typer(help="The Matrix (Synapse) connector.", no_args_is_help=True)
LISTED = 20  # imported reports named one per line; more are counted


@app.command("import-reports")
def import_reports(
    ctx: typer.Context,
    every: Annotated[
        float, typer.Option("--every", min=0, help="Seconds between imports, until SIGINT or SIGTERM; 0: once.")
    ] = 0,
) -> None:
    """Import Synapse's new user reports into review: each opens (or joins) a review case about
    the reported message. A report already imported is skipped, so running it again, or while
    the server imports too (matrix_reports_every_s), makes no second case."""
    container = state(ctx).container
    platform = container.platform
    if not isinstance(platform, MatrixPlatform):
        err_console.print(
            "[bold red]not a Matrix deployment:[/] set platform = matrix and the matrix_* settings (docs/matrix.md)"
        )
        raise typer.Exit(code=2)
    stop = threading.Event()
    with _stopped_by_signals(stop, install=every > 0):
        while True:
            try:
                _import_once(container.db, container.clock, platform)
            except PlatformError as exc:
                err_console.print(
                    f"[bold red]Synapse could not be read:[/] {exc}" + (f"; trying again in {every:g} s" if every > 0 else "")
                )
                if every <= 0:
                    raise typer.Exit(code=2) from None
            if every <= 0 or stop.wait(every):
                return


def _import_once(db: Database, clock: Clock, platform: MatrixPlatform) -> None:
    columns = (TextColumn("importing Matrix reports"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("import", total=None)
        run = reports.import_new(
            db,
            platform=platform,
            clock=clock,
            actor=operator(),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for each in run.imported[:LISTED]:
        console.print(f"  report {each.synapse_report_id} on {each.event_id} -> case {each.case_id}")
    if len(run.imported) > LISTED:
        console.print(f"  ... and {len(run.imported) - LISTED} more")
    console.print(f"{len(run.imported)} new reports imported into review; {run.already} read again were already imported")


@contextmanager
def _stopped_by_signals(stop: threading.Event, *, install: bool) -> Iterator[None]:
    """SIGINT and SIGTERM end the loop between imports (an import under way finishes)."""
    if not install:
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
