from __future__ import annotations

import typer

from trustdesk.cli.context import console, state
from trustdesk.core import migrate

app = typer.Typer(help="The database.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the database to the newest schema (creates it if needed)."""
    settings = state(ctx).settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.sqlalchemy_url)
    console.print(f"database at the newest schema ({settings.sqlalchemy_url.split('@')[-1]})")
