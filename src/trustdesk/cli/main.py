"""`trustdesk`: one root command, one module per domain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trustdesk.cli import audit, db, demo, tokens, users
from trustdesk.cli import automation as automation_cli
from trustdesk.cli import banks as banks_cli
from trustdesk.cli import disclosure as disclosure_cli
from trustdesk.cli import emergency as emergency_cli
from trustdesk.cli import lawful_requests as lawful_requests_cli
from trustdesk.cli import legal_policy as legal_policy_cli
from trustdesk.cli import matrix as matrix_cli
from trustdesk.cli import pipeline as pipeline_cli
from trustdesk.cli import settings as settings_cli
from trustdesk.cli import transparency as transparency_cli
from trustdesk.cli.context import CliState, console, state
from trustdesk.http import log_redaction
from trustdesk.web.app import route_templates

app = typer.Typer(help="Trustdesk: the trust & safety back office.", no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(audit.app, name="audit")
app.add_typer(demo.app, name="demo")
app.add_typer(settings_cli.app, name="settings")
app.add_typer(lawful_requests_cli.app, name="requests")
app.add_typer(pipeline_cli.app, name="pipeline")
app.add_typer(pipeline_cli.rules_app, name="rules")
app.add_typer(automation_cli.app, name="automation")
app.add_typer(transparency_cli.app, name="transparency")
app.add_typer(banks_cli.app, name="banks")
app.command("match")(banks_cli.match_folder)
app.add_typer(disclosure_cli.app, name="disclosure")
app.add_typer(legal_policy_cli.app, name="legal")
app.add_typer(emergency_cli.app, name="emergency")
app.add_typer(matrix_cli.app, name="matrix")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML file with a \\[trustdesk] table (see docs/configuration.md).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    # Before any command runs, workers included: their log lines name the server's URLs (a
    # notice's receipt, a disclosure package) and are redacted as the server's are.
    log_redaction.install_templates(route_templates())
    ctx.obj = CliState(config=config)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API, the console and the portal."""
    import uvicorn

    from trustdesk.web.app import create_app

    cli = state(ctx)
    app_ = create_app(cli.settings, container=cli.container)
    console.print(f"Trustdesk on [bold]http://{host}:{port}[/] (console /console, API /api/v1/docs)")
    uvicorn.run(app_, host=host, port=port, log_level="info")
