"""`trustdesk quality`: draw the samples the sampling rules are owed (run it from cron at
least once per shortest rule period), and print the figures of an interval as CSV."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.safety.quality import export, metrics, sampling

app = typer.Typer(help="Decision quality: samples for blind re-review, and their figures.", no_args_is_help=True)


@app.command("draw")
def draw(ctx: typer.Context) -> None:
    """Draw the samples every active sampling rule is owed now."""
    container = state(ctx).container
    with container.db.transaction() as session:
        made = sampling.draw_samples(session, actor=operator(), clock=container.clock)
    console.print(f"{len(made)} decisions drawn for a blind re-review.")


@app.command("metrics")
def metrics_csv(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Day after the last, YYYY-MM-DD (UTC).")] = None,
) -> None:
    """Print the quality figures of an interval as CSV (the API's /quality/metrics.csv)."""
    container = state(ctx).container
    try:
        lo, hi = export.interval(
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
            today=container.clock.now().date(),
        )
    except ValueError:
        raise typer.BadParameter("Dates are YYYY-MM-DD.") from None
    except TrustdeskError as exc:
        raise fail(exc) from None
    with container.db.transaction() as session:
        body = export.render_csv(metrics.compute(session, start=lo, end=hi))
    sys.stdout.write(body.decode())
