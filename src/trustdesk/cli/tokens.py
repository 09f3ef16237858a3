from __future__ import annotations

from typing import Annotated

import typer

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity import service
from trustdesk.core.identity.permissions import Permission, operator_principal

app = typer.Typer(help="API tokens for services.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    scope: Annotated[list[Permission], typer.Option("--scope", "-s", help="Repeat for several scopes.")],
    days: Annotated[int, typer.Option(help="Lifetime in days (1-366).")] = 90,
) -> None:
    """Create a scoped, expiring token; the secret is printed once and stored only as a hash.
    The operator at the server's shell may grant any scope; the grant is audited as theirs."""
    container, actor = state(ctx).container, operator()
    try:
        with container.db.transaction() as session:
            secret, token = service.create_token(
                session,
                actor=actor,
                clock=container.clock,
                grantor=operator_principal(actor.name),
                name=name,
                scopes=scope,
                days=days,
            )
            expires = token.expires_at
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"token [bold]{name}[/] (expires {expires:%Y-%m-%d}); shown once:")
    console.print(secret, soft_wrap=True)


@app.command()
def revoke(ctx: typer.Context, token_id: int, reason: Annotated[str, typer.Option(help="Why; goes into the audit log.")]) -> None:
    """Revoke a token at once."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            service.revoke_token(session, actor=operator(), clock=container.clock, token_id=token_id, reason=reason)
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"revoked token {token_id}")
