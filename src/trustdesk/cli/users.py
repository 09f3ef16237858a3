from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity import service
from trustdesk.core.identity.permissions import Role

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    username: str,
    email: Annotated[str, typer.Option(help="Work e-mail.")],
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Repeat for several roles.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters.")
    ] = "",
) -> None:
    """Create a staff account and print its second-factor enrolment URI (shown once)."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            user = service.create_user(
                session,
                actor=operator(),
                clock=container.clock,
                username=username,
                display_name=name or username,
                email=email,
                password=password,
                roles=role,
            )
            uri = service.totp_uri(user)
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"created [bold]{username}[/] with roles {', '.join(sorted(role))}")
    console.print(f"enrol this in an authenticator app (shown once):\n  {uri}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List staff accounts."""
    container = state(ctx).container
    table = Table("username", "name", "roles", "state", "last sign-in")
    with container.db.transaction() as session:
        for u in service.list_users(session):
            status = (
                "disabled"
                if u.disabled_at
                else ("locked" if u.locked_until and u.locked_until > container.clock.now() else "active")
            )
            table.add_row(
                u.username,
                u.display_name,
                ", ".join(u.roles),
                status,
                f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never",
            )
    console.print(table)


@app.command()
def disable(
    ctx: typer.Context, username: str, reason: Annotated[str, typer.Option(help="Why; goes into the audit log.")]
) -> None:
    """Disable a staff account and end its console sessions."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            service.disable_user(session, actor=operator(), clock=container.clock, username=username, reason=reason)
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"disabled [bold]{username}[/]")
