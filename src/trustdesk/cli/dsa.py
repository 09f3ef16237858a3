"""`trustdesk dsa`: the DSA Transparency Database outbox seen from the command line: its
backlog, and the self-audit of what was submitted against what happened."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, operator, state
from trustdesk.safety.enforcement import dsa_submission

app = typer.Typer(help="The DSA Transparency Database: backlog and self-audit.", no_args_is_help=True)


@app.command("self-audit")
def self_audit(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per discrepancy, one a line.")] = False,
) -> None:
    """Hold what was submitted against our records as they are now; list what to correct.
    Exit code 1 when anything was found."""
    container = state(ctx).container
    with container.db.transaction() as session:
        result = dsa_submission.self_audit(session, actor=operator(), clock=container.clock)
    if as_json:
        for found in result.discrepancies:
            typer.echo(json.dumps(found.__dict__, ensure_ascii=False, sort_keys=True))
    elif result.discrepancies:
        table = Table("kind", "action", "statement", "puid", "state", "field", "what is wrong")
        for found in result.discrepancies:
            table.add_row(
                found.kind,
                str(found.action_id),
                str(found.statement_id or "-"),
                found.puid or "-",
                found.state or "-",
                found.field,
                found.message,
            )
        console.print(table)
    if not as_json:
        console.print(f"{result.checked} submitted statements checked, {len(result.discrepancies)} discrepancies")
    if result.discrepancies:
        raise typer.Exit(code=1)


@app.command("backlog")
def backlog(ctx: typer.Context) -> None:
    """Statements by state, the oldest waiting one, and how many last got no answer."""
    container = state(ctx).container
    with container.db.transaction() as session:
        found = dsa_submission.backlog(session)
    for name, count in found.counts.items():
        console.print(f"{name:>10}  {count}")
    oldest = f"{found.oldest_pending_at:%Y-%m-%d %H:%M} UTC" if found.oldest_pending_at else "-"
    console.print(f"oldest waiting since {oldest}; {found.failing} last got no answer")
