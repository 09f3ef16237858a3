from __future__ import annotations

import typer
from rich.table import Table

from trustdesk.cli.context import console, err_console, operator, state
from trustdesk.core.identity.demo import (
    DEMO_PASSWORD,
    DEMO_STAFF,
    current_code,
    ensure_demo_staff,
)
from trustdesk.emergency.demo import load_demo_emergency
from trustdesk.legal.demo import demo_officers, ensure_demo_agencies
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.banks.demo import load_demo_banks
from trustdesk.safety.pipeline.demo import load_demo_pipeline
from trustdesk.safety.review.demo import load_demo_review

app = typer.Typer(help="The demo: staff accounts and a seeded demo platform.", no_args_is_help=True)


@app.command()
def load(ctx: typer.Context) -> None:
    """Create the demo staff and seed the demo platform (idempotent)."""
    cli = state(ctx)
    if cli.settings.environment == "production":
        err_console.print("[red]refused[/]: demo data is never loaded in production")
        raise typer.Exit(code=2)
    container = cli.container
    platform = container.platform
    if not isinstance(platform, DemoPlatform):
        err_console.print(f"[red]refused[/]: demo data is loaded into the demo platform, not {cli.settings.platform.value}")
        raise typer.Exit(code=2)
    with container.db.transaction() as session:
        created = ensure_demo_staff(session, clock=container.clock, actor=operator())
    seed_demo(platform)
    with container.db.transaction() as session:
        load_demo_banks(session, platform=platform, actor=operator(), clock=container.clock)
    with container.db.transaction() as session:
        load_demo_review(session, platform=platform, actor=operator(), clock=container.clock)
    load_demo_pipeline(container, actor=operator())
    with container.db.transaction() as session:
        agencies, officers = ensure_demo_agencies(session, clock=container.clock, actor=operator())
    orders, threats = load_demo_emergency(container, actor=operator())  # after the officers it files as
    console.print(
        f"demo loaded ({len(created)} staff accounts created; {agencies} agencies and {officers} officers registered; emergency lane: {orders} TCO order, {threats} threat-to-life draft)"
    )
    _print_logins(container)


@app.command()
def codes(ctx: typer.Context) -> None:
    """Print the demo logins with their current one-time codes."""
    _print_logins(state(ctx).container)


def _print_logins(container) -> None:  # type: ignore[no-untyped-def]
    console.print(f"Demo staff sign in at /login with password [bold]{DEMO_PASSWORD}[/] and a one-time code:")
    table = Table("username", "roles", "code now", "TOTP secret (add to an authenticator app)")
    table.columns[3].overflow = "fold"
    for staff in DEMO_STAFF:
        table.add_row(staff.username, ", ".join(staff.roles), current_code(staff, container.clock), staff.totp_secret)
    console.print(table)
    console.print("Codes change every 30 seconds: `trustdesk demo codes` prints the current ones.")
    _print_officer_logins(container)


def _print_officer_logins(container) -> None:  # type: ignore[no-untyped-def]
    console.print(f"Demo officers sign in to the authority portal at /portal/login with password [bold]{DEMO_PASSWORD}[/]:")
    table = Table("e-mail", "agency", "state", "code now", "TOTP secret")
    for column in table.columns:
        column.overflow = "fold"
    for officer in demo_officers():
        table.add_row(officer.email, officer.agency, officer.state, officer.code(container.clock), officer.totp_secret)
    console.print(table)
