"""`trustdesk automation`: the rule and model versions the pipeline knows (shadow, active,
retired) and their promotion on measured precision (docs/classifiers.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for

app = typer.Typer(help="Rule and model versions: shadow runs, measured precision, promotion.", no_args_is_help=True)


def _principal() -> Principal:
    """The operator at the server's shell acts with an administrator's permissions."""
    roles = frozenset({Role.ADMIN})
    return Principal(kind=PrincipalKind.CLI, id=0, name=operator().name, permissions=permissions_for(roles), roles=roles)


@app.command("versions")
def versions(ctx: typer.Context) -> None:
    """Every known rule and model version, its state and its shadow run's measured precision."""
    from trustdesk.safety.automation import service as automation

    container = state(ctx).container
    table = Table("id", "kind", "name", "version", "state", "flagged", "labelled", "precision", "ci95")
    with container.db.transaction() as session:
        for row in automation.versions(session):
            measured = automation.measure(session, row.id).as_dict()
            table.add_row(
                str(row.id),
                row.kind,
                row.name,
                row.version,
                row.state,
                str(measured["flagged"]),
                str(measured["labelled"]),
                "" if measured["precision"] is None else str(measured["precision"]),
                "" if measured["ci95"] is None else f"{measured['ci95'][0]}-{measured['ci95'][1]}",
            )
    console.print(table)


@app.command("promote")
def promote(
    ctx: typer.Context,
    version_id: Annotated[int, typer.Argument(help="The version's id (`trustdesk automation versions`).")],
    note: Annotated[str, typer.Option(help="Why: recorded in the audit entry.")],
    min_labelled: Annotated[int, typer.Option(min=0, help="Fewest labelled shadow verdicts to promote on.")] = 20,
    min_precision: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Lowest precision to promote on.")] = None,
) -> None:
    """Let a version in shadow act, on its measured precision (an audited decision)."""
    from trustdesk.safety.automation import service as automation

    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            row, measured = automation.promote(
                session,
                actor=operator(),
                clock=container.clock,
                principal=_principal(),
                version_id=version_id,
                min_labelled=min_labelled,
                min_precision=min_precision,
                note=note,
            )
            summary = f"{row.kind} {row.name} version {row.version} is active"
    except TrustdeskError as exc:
        raise fail(exc) from None
    figures = measured.as_dict()
    console.print(f"{summary}: precision {figures['precision']} on {figures['labelled']} labelled (95 % {figures['ci95']}).")
