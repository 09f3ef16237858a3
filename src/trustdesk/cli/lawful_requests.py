"""`trustdesk requests`: the lawful-request queue, deadline alerts, the instrument catalogue
and the authority registry from the command line (the same services as the console)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, Role, operator_principal, permissions_for
from trustdesk.core.urls import Audience, base
from trustdesk.legal import alerts, registry, service
from trustdesk.legal.clocks import describe_time_left, time_left
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.models import Officer, OfficerState

app = typer.Typer(help="Lawful requests: queue, deadline alerts, instruments, authority registry.", no_args_is_help=True)


def _operator_principal() -> Principal:
    """The operator at the console acts with a legal officer's permissions."""
    actor = operator()
    roles = frozenset({Role.LEGAL_OFFICER})
    return Principal(kind=PrincipalKind.CLI, id=0, name=actor.name, permissions=permissions_for(roles), roles=roles)


@app.command("list")
def list_(ctx: typer.Context, all_: Annotated[bool, typer.Option("--all", help="Include closed requests.")] = False) -> None:
    """The queue, nearest deadline first."""
    container = state(ctx).container
    now = container.clock.now()
    table = Table("time left", "due (UTC)", "reference", "instrument", "agency", "state", "checks", "held")
    with container.db.transaction() as session:
        agencies = {a.id: a for a in registry.list_agencies(session)}
        for r in service.list_requests(session, principal=_operator_principal(), open_only=not all_):
            due = r.due_at or r.expires_at
            table.add_row(
                describe_time_left(time_left(due, now=now)),
                f"{due:%Y-%m-%d %H:%M}" if due else "—",
                r.reference + (" (emergency)" if r.emergency else ""),
                r.instrument,
                f"{agencies[r.agency_id].country} {agencies[r.agency_id].name}",
                r.state,
                r.verdict,
                "yes" if r.held else "",
            )
    console.print(table)


@app.command("alerts")
def alerts_(ctx: typer.Context) -> None:
    """Raise the deadline alerts that are due (run every minute from cron or a worker)."""
    container = state(ctx).container
    with container.db.transaction() as session:
        raised = alerts.scan(
            session,
            clock=container.clock,
            pager=container.pager,
            actor=operator(),
            base_url=base(container.settings, Audience.CONSOLE),
        )
        lines = [a.detail for a in raised]
    for line in lines:
        console.print(f"[yellow]alert[/] {line}")
    console.print(f"{len(lines)} new alert(s)")


@app.command()
def catalogue() -> None:
    """The instrument catalogue this instance checks requests against."""
    cat = load_catalogue()
    table = Table("code", "instrument", "data", "clock", "required elements", title=f"Instrument catalogue {cat.version}")
    for i in cat.instruments.values():
        table.add_row(
            i.code.value,
            i.name,
            ", ".join(sorted(c.value for c in i.categories)) or "—",
            i.clock.kind.value,
            ", ".join(i.required_elements),
        )
    console.print(table)


@app.command()
def agencies(ctx: typer.Context) -> None:
    """Registered agencies and their officers."""
    container = state(ctx).container
    table = Table("agency", "country", "kind", "call-back", "officer", "e-mail", "state")
    with container.db.transaction() as session:
        officers = registry.list_officers(session)
        for a in registry.list_agencies(session):
            mine: list[Officer | None] = [o for o in officers if o.agency_id == a.id] or [None]
            for o in mine:
                table.add_row(
                    a.code, a.country, a.kind, a.callback_phone, o.name if o else "—", o.email if o else "", o.state if o else ""
                )
    console.print(table)


@app.command("block-officer")
def block_officer(
    ctx: typer.Context, officer_id: int, reason: Annotated[str, typer.Option(help="Why; goes into the audit log.")]
) -> None:
    """Block a compromised officer account at once (ends its portal sessions)."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            officer = registry.set_officer_state(
                session, actor=operator(), clock=container.clock, officer_id=officer_id, state=OfficerState.BLOCKED, reason=reason
            )
            name = officer.name
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"blocked {name}")


@app.command("agency-token")
def agency_token(
    ctx: typer.Context, agency_code: str, days: Annotated[int, typer.Option(help="Lifetime in days (1-366).")] = 90
) -> None:
    """A service token for an agency's own system to file requests by API (shown once)."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            agency = registry.get_agency(session, code=agency_code)
            actor = operator()
            secret, _ = identity.create_token(
                session,
                actor=actor,
                clock=container.clock,
                grantor=operator_principal(actor.name),
                name=f"agency:{agency.code}",
                scopes=[Permission.PORTAL_SUBMIT],
                days=days,
                agency_id=agency.id,
            )
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"token for [bold]{agency_code}[/] (POST /api/v1/lawful-requests); shown once:")
    console.print(secret, soft_wrap=True)
