from __future__ import annotations

import typer

from trustdesk.cli.context import console, err_console, state
from trustdesk.core.audit import verify as verify_chain

app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@app.command()
def verify(ctx: typer.Context) -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry."""
    container = state(ctx).container
    with container.db.transaction() as session:
        result = verify_chain(session)
    if result.ok:
        console.print(f"[green]audit chain intact[/]: {result.checked} entries verified")
        return
    err_console.print(f"[bold red]audit chain broken at entry {result.first_broken}[/]: {result.problem} ({result.checked} entries before it are intact)")
    raise typer.Exit(code=1)
