"""`trustdesk`: one root command, one module per domain."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from trustdesk.cli.context import CliState, console, state
from trustdesk.http import log_redaction


@dataclass(frozen=True)
class Lazy:
    """A command group (or one command) whose module is imported only when it runs: the
    modules import the whole domain they drive, and `trustdesk --help` or one command must
    not pay for all of them (issue #19: the CLI took 3.5-10 s to start). `help` is what the
    root's listing shows without importing; tests/cli/test_startup.py checks it says what the
    module's own help says."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, Lazy] = {
    "db": Lazy("trustdesk.cli.db", "app", "The database."),
    "users": Lazy("trustdesk.cli.users", "app", "Staff accounts."),
    "tokens": Lazy("trustdesk.cli.tokens", "app", "API tokens for services."),
    "audit": Lazy("trustdesk.cli.audit", "app", "The audit chain and its signed checkpoints."),
    "demo": Lazy("trustdesk.cli.demo", "app", "The demo: staff accounts and a seeded demo platform."),
    "settings": Lazy("trustdesk.cli.settings", "app", "Settings: the configuration reference."),
    "requests": Lazy(
        "trustdesk.cli.lawful_requests", "app", "Lawful requests: queue, deadline alerts, instruments, authority registry."
    ),
    "pipeline": Lazy("trustdesk.cli.pipeline", "app", "The event pipeline: replay events, run workers, dead letters."),
    "rules": Lazy("trustdesk.cli.pipeline", "rules_app", "The rules: check files, backtest them on stored events."),
    "transparency": Lazy("trustdesk.cli.transparency", "app", "Transparency: DSA statements of reasons."),
    "banks": Lazy("trustdesk.cli.banks", "app", "Hash banks: lists of known media, fetched from exchanges or imported."),
    "match": Lazy(
        "trustdesk.cli.banks", "match_folder", "Hash every file in a folder and match it against the banks (nothing is stored)."
    ),
    "disclosure": Lazy("trustdesk.cli.disclosure", "app", "Disclosure packages, legal holds, user notices."),
    "legal": Lazy("trustdesk.cli.legal_policy", "app", "Lawful requests: jurisdictions and policy."),
    "emergency": Lazy(
        "trustdesk.cli.emergency", "app", "The emergency lane: TCO one-hour removals, threat-to-life notifications, paging."
    ),
    "matrix": Lazy("trustdesk.cli.matrix", "app", "The Matrix (Synapse) connector."),
    "dsa": Lazy("trustdesk.cli.dsa", "app", "The DSA Transparency Database: backlog and self-audit."),
    "automation": Lazy("trustdesk.cli.automation", "app", "Rule and model versions: shadow runs, measured precision, promotion."),
    "quality": Lazy("trustdesk.cli.quality", "app", "Decision quality: samples for blind re-review, and their figures."),
    "jobs": Lazy(
        "trustdesk.cli.jobs",
        "app",
        "Scheduled jobs: alerts, purges, hold releases, exchange fetches, checkpoints, the emergency sweep.",
    ),
    "wisp": Lazy("trustdesk.cli.wisp", "app", "The e-Evidence WISP channel: the simulator of the Member State side."),
    "privacy": Lazy(
        "trustdesk.cli.privacy", "app", "Privacy: retention by the data map, rights requests, the record of processing."
    ),
}


def load(name: str) -> Any:
    """The click command of a lazy entry, its module imported now."""
    lazy = COMMANDS[name]
    target: Any = getattr(importlib.import_module(lazy.module), lazy.attribute)
    holder = typer.Typer()  # as the root would hold it: a group stays a group even with one command (`db`)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:  # a single command function
        holder.command(name=name)(target)
        holder.command(name="-")(lambda: None)  # two commands: typer keeps the holder a group
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """The root group: commands of `COMMANDS` are loaded when invoked; the help listing shows
    their static help instead of importing them."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self.listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
        return load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    cls=LazyGroup, help="Trustdesk: the trust & safety back office.", no_args_is_help=True, pretty_exceptions_show_locals=False
)


def _route_templates() -> frozenset[str]:
    from trustdesk.web.app import route_templates

    return route_templates()


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
    log_redaction.install_lazily(_route_templates)
    ctx.obj = CliState(config=config)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API, the console and the portal, and run the scheduled jobs (jobs_in_server)."""
    import uvicorn

    from trustdesk.web.app import create_app

    cli = state(ctx)
    app_ = create_app(cli.settings, container=cli.container)
    console.print(f"Trustdesk on [bold]http://{host}:{port}[/] (console /console, API /api/v1/docs)")
    uvicorn.run(app_, host=host, port=port, log_level="info")
