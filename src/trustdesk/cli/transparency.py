"""`trustdesk transparency`: statements of reasons out of Trustdesk, as files or to the EU
DSA Transparency Database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.core.dsa_database import build_dsa_database
from trustdesk.core.errors import TrustdeskError
from trustdesk.safety.enforcement import dsa_submission
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.transparency.reports.periods import parse_interval

app = typer.Typer(help="Transparency: DSA statements of reasons.", no_args_is_help=True)


@app.command("export-sor")
def export_sor(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="2026, 2026-H1, 2026-Q3, 2026-03 or 2026-03-01..2026-03-31 (UTC).")],
    out: Annotated[Path, typer.Option("--out", help="File to write: JSON lines, one statement per line.", dir_okay=False)],
) -> None:
    """Write the statements of reasons of a period, exactly as the DSA database's API takes them."""
    container = state(ctx).container
    try:
        start, end = parse_interval(period)
    except TrustdeskError as exc:
        raise fail(exc) from None
    with container.db.read() as session:
        total = (
            session.scalar(
                select(func.count())
                .select_from(StatementOfReasons)
                .where(StatementOfReasons.told_at >= start, StatementOfReasons.told_at < end)
            )
            or 0
        )
        with out.open("w", encoding="utf-8") as fh, _progress() as progress:
            task = progress.add_task("statements", total=total)
            for statement in dsa_submission.statements_in(session, start=start, end=end):
                fh.write(dsa_submission.as_json_line(statement) + "\n")
                progress.advance(task)
    console.print(f"{total} statements from {start:%Y-%m-%d} to before {end:%Y-%m-%d} written to {out}")


@app.command("submit-sor")
def submit_sor(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None, typer.Option(help="Base URL of the DSA Transparency Database API; default: the dsa_database_url setting.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many pending statements this run; default: all.")] = None,
) -> None:
    """Submit pending statements in batches of 100 within the API's rate limits (token: the
    dsa_database_token setting), each batch committed as it is answered; rejections, and
    statements our own checks hold back, are kept for a person to fix in the console."""
    settings = state(ctx).settings
    if not (endpoint or settings.dsa_database_url):
        err_console.print("[red]Set TRUSTDESK_DSA_DATABASE_URL[/] (or give --endpoint): the DSA database API's base URL.")
        raise typer.Exit(code=2)
    container = state(ctx).container
    dsa_database = build_dsa_database(settings, base_url=endpoint) if endpoint else container.dsa_database
    if dsa_database is None:  # the URL is there, so the token is not
        err_console.print("[red]Set TRUSTDESK_DSA_DATABASE_TOKEN[/] to the platform's API token for the DSA database.")
        raise typer.Exit(code=2)
    summary = dsa_submission.drain(container.db, actor=operator(), clock=container.clock, dsa_database=dsa_database, limit=limit)
    console.print(
        f"submitted {summary.submitted}, rejected {summary.rejected} (fix them in the console), "
        f"held {summary.held} by our checks (fix them in the console), failed {summary.failed} (will retry)"
        + (f", {summary.recovered} found already in the database after an interrupted run" if summary.recovered else "")
    )
    if summary.rejected or summary.failed or summary.held:
        raise typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    )


@app.command("report")
def report(
    ctx: typer.Context,
    period: Annotated[str, typer.Option(help="A year (2026) or a half-year (2026-H1, 2026-H2), in UTC.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write every file of both reports into (created if missing).", file_okay=False)
    ],
    trace: Annotated[
        Path | None,
        typer.Option(
            "--trace",
            help="Also write, to this file, each DSA figure and the records it counts (for staff; never published).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Write the DSA transparency report and the government-request report of a period (not published)."""
    from trustdesk.transparency.reports import annex
    from trustdesk.transparency.reports import service as reports
    from trustdesk.transparency.reports.periods import parse_period

    container = state(ctx).container
    try:
        parsed = parse_period(period)
    except TrustdeskError as exc:
        raise fail(exc) from None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with container.db.read() as session, _progress() as progress:
        task = progress.add_task("reports", total=len(reports.ReportKind))
        for kind in reports.ReportKind:
            written += reports.render(
                session, kind=kind, period=parsed, now=container.clock.now(), provider=annex.provider_of(container.settings)
            )
            progress.advance(task)
        trace_csv = (
            reports.dsa_trace(session, period=parsed, now=container.clock.now(), provider=annex.provider_of(container.settings))
            if trace is not None
            else None
        )
    for rendered in written:
        (out / rendered.name).write_bytes(rendered.content)
    (out / "SHA256SUMS").write_text("".join(f"{f.sha256}  {f.name}\n" for f in written), encoding="utf-8")
    for rendered in written:
        console.print(f"{rendered.sha256[:16]}…  {out / rendered.name}")
    console.print(f"{len(written)} files for {parsed.label} ({parsed.title}, UTC) written to {out}, with SHA256SUMS")
    if trace is not None and trace_csv is not None:
        trace.write_bytes(trace_csv)
        console.print(f"Figures and the records they count written to {trace}")
