"""`trustdesk privacy`: retention runs, rights requests and their exports, the record of
processing, from the terminal (the same services as the API and the console)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trustdesk.cli.context import console, fail, operator, state
from trustdesk.core.access.service import Channel
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import operator_principal
from trustdesk.privacy import datamap, record, retention, rights
from trustdesk.privacy import export as export_
from trustdesk.privacy.models import RightKind, RightsRequest

app = typer.Typer(help="Privacy: retention by the data map, rights requests, the record of processing.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention by data category (the data map).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be emptied; change nothing.")] = False,
) -> None:
    """One retention run now: empty what the data map says is past its period, audited with counts."""
    container = state(ctx).container
    report = retention.run(
        container.db,
        clock=container.clock,
        blobs=container.blobs,
        settings=container.settings,
        actor=operator(),
        dry_run=dry_run,
        platform=container.platform,
    )
    table = Table("table", "emptied", "deleted", "kept (why)")
    for name, counts in report.tables.items():
        if counts.emptied or counts.deleted or counts.kept:
            why = ", ".join(f"{k}: {v}" for k, v in sorted(counts.kept.items()))
            table.add_row(name, str(counts.emptied), str(counts.deleted), why or "—")
    console.print(table)
    verb = "would empty" if dry_run else "emptied"
    console.print(
        f"{verb} {report.emptied} row(s), deleted {report.deleted}, kept {report.kept} past their period; "
        f"{report.files_deleted} file(s) deleted (data map {report.data_map_version})"
    )


def _show(request: RightsRequest) -> None:
    console.print(f"rights request {request.id}: {request.kind} for {request.account_id}: [bold]{request.state}[/]")
    for reason in request.reasons:
        console.print(f"  {reason['obstacle']}: {reason['detail']} ({reason['scope']})")
    for name, n in request.counts.items():
        console.print(f"  {name}: {n}")
    console.print(f"told: {request.told}")


@app.command("request")
def request(
    ctx: typer.Context,
    kind: Annotated[RightKind, typer.Argument(help="access, erasure or restriction")],
    account_id: Annotated[str, typer.Argument(help="The platform account the request is about.")],
    note: Annotated[str, typer.Option(help="How the person's identity was checked.")] = "",
    out: Annotated[Path | None, typer.Option(help="access: write the export (Markdown) here.")] = None,
) -> None:
    """Take a rights request in and answer it as far as the law allows."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            outcome = rights.receive(
                session,
                actor=operator(),
                clock=container.clock,
                principal=operator_principal(getpass.getuser()),
                kind=kind,
                account_id=account_id,
                note=note,
                platform=container.platform,
            )
            _show(outcome.request)
    except TrustdeskError as exc:
        raise fail(exc) from exc
    if out is not None and outcome.export is not None:
        out.write_text(export_.markdown(outcome.export), encoding="utf-8")
        console.print(f"export written to {out}")


@app.command("retry")
def retry(
    ctx: typer.Context,
    request_id: Annotated[int | None, typer.Argument(help="The request; none: every deferred request.")] = None,
) -> None:
    """Answer a deferred rights request again (or all of them: what a scheduled job runs)."""
    container = state(ctx).container
    if request_id is None:
        with container.db.transaction() as session:
            answered = rights.retry_deferred(session, actor=operator(), clock=container.clock, platform=container.platform)
            for done in answered:
                _show(done)
        console.print(f"{len(answered)} deferred request(s) answered")
        return
    try:
        with container.db.transaction() as session:
            outcome = rights.retry(
                session,
                actor=operator(),
                clock=container.clock,
                principal=operator_principal(getpass.getuser()),
                request_id=request_id,
                platform=container.platform,
            )
            _show(outcome.request)
    except TrustdeskError as exc:
        raise fail(exc) from exc


@app.command("export")
def export(ctx: typer.Context, request_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print an access request's export (never a lawful request under a gag)."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            document = rights.export_of(
                session,
                principal=operator_principal(getpass.getuser()),
                request_id=request_id,
                clock=container.clock,
                channel=Channel.CLI,
                platform=container.platform,
            )
    except TrustdeskError as exc:
        raise fail(exc) from exc
    typer.echo(json.dumps(document, indent=2) if as_json else export_.markdown(document))


@app.command("record")
def processing_record(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The record of processing activities (GDPR Art. 30), generated from the data map."""
    settings = state(ctx).settings
    data_map = datamap.load()
    typer.echo(json.dumps(record.document(data_map, settings), indent=2) if as_json else record.markdown(data_map, settings))
