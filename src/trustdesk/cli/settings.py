from __future__ import annotations

import typer

from trustdesk.core.settings_docs import reference

app = typer.Typer(help="Settings: the configuration reference.", no_args_is_help=True)


@app.command()
def docs() -> None:
    """Print the configuration reference (Markdown) written from the settings themselves."""
    typer.echo(reference(), nl=False)
