"""`trustdesk disclosure`: verify a package (what an authority runs on what it downloaded),
release expired legal holds, and read the notice queue and the transparency numbers."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, Role
from trustdesk.legal.disclosure import notice, numbers, packages, preservation
from trustdesk.legal.signing import KEY_FILE, load_or_create

app = typer.Typer(help="Disclosure packages, legal holds, user notices.", no_args_is_help=True)


def cli_principal() -> Principal:
    """The operator at the console, who holds the legal team's read and handle rights."""
    perms = frozenset({Permission.REQUESTS_READ, Permission.REQUESTS_HANDLE})
    return Principal(
        kind=PrincipalKind.CLI, id=0, name=getpass.getuser(), permissions=perms, roles=frozenset({Role.LEGAL_OFFICER})
    )


def _key_from(public_key: str | None, discovery: Path | None, data_dir: Path) -> tuple[str | None, str]:
    if public_key:
        return public_key, "the key given on the command line"
    if discovery is not None:
        document = json.loads(discovery.read_text(encoding="utf-8"))
        return document["disclosure_signing_key"]["public_key"], f"the discovery document {discovery}"
    if (data_dir / KEY_FILE).exists():
        return load_or_create(data_dir).public_key_b64, "this instance's signing key"
    return None, "the key named inside the package (integrity only: pass --discovery to prove who signed)"


@app.command()
def verify(
    ctx: typer.Context,
    package: Annotated[Path, typer.Argument(help="The downloaded ZIP.", exists=True, dir_okay=False)],
    public_key: Annotated[str | None, typer.Option(help="The provider's Ed25519 public key, base64.")] = None,
    discovery: Annotated[
        Path | None, typer.Option(help="The provider's /.well-known/lawful-requests.json, saved.", exists=True, dir_okay=False)
    ] = None,
) -> None:
    """Check the signature over the manifest and every file's SHA-256; exit 1 if anything fails."""
    try:
        key, source = _key_from(public_key, discovery, state(ctx).settings.data_dir)
    except (ValueError, KeyError) as exc:
        err_console.print(f"[bold red]Cannot read the public key:[/] {exc}")
        raise typer.Exit(code=2) from None
    result = packages.verify(package.read_bytes(), public_key_b64=key, max_bytes=state(ctx).settings.archive_max_bytes)
    console.print(f"Checked against {source}.")
    if not result.ok:
        for problem in result.problems:
            err_console.print(f"[bold red]FAILED[/] {problem}")
        raise typer.Exit(code=1)
    request = result.manifest.get("request", {})
    console.print(
        f"[green]package verified[/]: signature valid, {result.checked_files} file(s) match the manifest "
        f"(request {request.get('reference', '?')}, {len(result.manifest.get('not_held', []))} item(s) not held)."
    )


@app.command("release-expired")
def release_expired(ctx: typer.Context) -> None:
    """Release every legal hold past its expiry, each with an audit entry."""
    container = state(ctx).container
    with container.db.transaction() as session:
        released = preservation.release_expired(session, actor=operator(), clock=container.clock)
    console.print(f"released {len(released)} expired hold(s)")


@app.command()
def holds(ctx: typer.Context) -> None:
    """Legal holds, soonest expiry first."""
    container = state(ctx).container
    table = Table("id", "request", "account", "categories", "state", "expires")
    with container.db.transaction() as session:
        for h in preservation.list_holds(session, principal=cli_principal()):
            table.add_row(str(h.id), str(h.request_id), h.account_id, ", ".join(h.categories), h.state, h.expires_at.isoformat())
    console.print(table)


@app.command()
def notices(ctx: typer.Context) -> None:
    """User notices due, waiting, withheld and sent."""
    container = state(ctx).container
    with container.db.transaction() as session:
        queue = notice.queue(session, principal=cli_principal(), clock=container.clock)
        for label, rows in (("due", queue.due), ("waiting", queue.waiting), ("withheld", queue.withheld), ("sent", queue.sent)):
            console.print(f"[bold]{label}[/]: {len(rows)}")
            for n in rows:
                console.print(
                    f"  #{n.id} request {n.request_id} account {n.account_id} not before {n.not_before or '—'}: {n.basis}"
                )


def _day(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


@app.command("numbers")
def numbers_(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")],
    end: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (UTC).")],
    country: Annotated[str | None, typer.Option(help="One country (ISO alpha-2).")] = None,
) -> None:
    """Per-country numbers for the government-request report, as JSON."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            rows = numbers.government_numbers(
                session, principal=cli_principal(), start=_day(start), end=_day(end), country=country
            )
    except TrustdeskError as exc:
        raise fail(exc) from None
    console.print_json(json.dumps(rows))
