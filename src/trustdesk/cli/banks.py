"""`trustdesk banks ...` (hash banks and exchanges) and `trustdesk match FOLDER`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.status import Status
from rich.table import Table

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.safety.banks import lookup, service, transfer
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.banks.models import BankKind
from trustdesk.safety.exchanges import service as exchanges

app = typer.Typer(help="Hash banks: lists of known media, fetched from exchanges or imported.", no_args_is_help=True)
_EVERY = re.compile(r"^(\d+)\s*([smh])$")


@app.command("list")
def list_banks(ctx: typer.Context) -> None:
    """Banks with their entry counts, thresholds and state; then the exchanges."""
    container = state(ctx).container
    with container.db.transaction() as session:
        table = Table("id", "name", "kind", "policy", "threshold", "rollout", "entries (enabled)", "state")
        for s in service.list_banks(session):
            b = s.bank
            table.add_row(
                str(b.id),
                b.name,
                b.kind,
                b.policy or "—",
                str(b.threshold),
                f"{b.rollout_percent}%",
                f"{s.entries} ({s.enabled_entries})",
                "enabled" if b.enabled else "[yellow]disabled[/]",
            )
        console.print(table)
        rows = exchanges.list_exchanges(session)
    if rows:
        ex = Table("exchange", "api", "bank", "state", "last fetch", "fetched", "error")
        for e in rows:
            ex.add_row(
                e.name,
                e.api,
                str(e.bank_id),
                e.state,
                str(e.last_finished_at or "never"),
                str(e.fetched_total),
                (e.last_error or "")[:60],
            )
        console.print(ex)


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    policy: Annotated[str | None, typer.Option(help="Platform policy key, e.g. terrorism (sets the DSA category).")] = None,
    kind: Annotated[BankKind, typer.Option(help="positive, or negative for known false positives.")] = BankKind.POSITIVE,
    threshold: Annotated[int, typer.Option(help="PDQ distance threshold, 0-64.")] = 31,
    rollout: Annotated[int, typer.Option(help="Rollout percentage.")] = 100,
    label: Annotated[list[str] | None, typer.Option(help="A label; repeat for several.")] = None,
    description: str = "",
    all_orientations: Annotated[
        bool | None,
        typer.Option(
            "--all-orientations/--upright-only",
            help="Match uploads in all 8 rotations and flips (default: on for positive banks, off for negative).",
        ),
    ] = None,
) -> None:
    """Create a bank."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            bank = service.create_bank(
                session,
                actor=operator(),
                clock=container.clock,
                name=name,
                policy=policy,
                kind=kind,
                threshold=threshold,
                rollout_percent=rollout,
                labels=label or [],
                description=description,
                all_orientations=all_orientations,
            )
    except TrustdeskError as exc:
        raise fail(exc) from None
    console.print(f"created bank {bank.id} [bold]{bank.name}[/] ({bank.kind}, {bank.dsa_category or 'no DSA category'})")


@app.command("import")
def import_entries(
    ctx: typer.Context,
    bank: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    format: Annotated[
        transfer.TransferFormat, typer.Option(help="csv or threatexchange ('<type> <value>' lines).")
    ] = transfer.TransferFormat.CSV,
) -> None:
    """Import entries into a bank; stored uploads are matched against the new ones."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            target = service.get_bank_by_name(session, name=bank)
            entries = transfer.parse(file.read_bytes(), fmt=format)
            added = add_entries_flow(
                session,
                actor=operator(),
                clock=container.clock,
                bank_id=target.id,
                entries=entries,
                reason=f"import of {file.name}",
                trigger=f"import of {file.name}",
                platform=container.platform,
                pager=container.pager,
            )
    except TrustdeskError as exc:
        raise fail(exc) from None
    run = added.retroaction
    console.print(
        f"{len(added.result.added)} added, {added.result.skipped} already there"
        + (
            f"; retroaction: {run.media_scanned} stored uploads scanned, {run.matches} new matches, {run.cases} cases, {run.removed} removed automatically"
            if run
            else ""
        )
    )


@app.command()
def export(
    ctx: typer.Context,
    bank: str,
    format: Annotated[transfer.TransferFormat, typer.Option()] = transfer.TransferFormat.CSV,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: standard output).")] = None,
) -> None:
    """Export a bank's entries."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            text = "".join(transfer.export(session, bank_id=service.get_bank_by_name(session, name=bank).id, fmt=format))
    except TrustdeskError as exc:
        raise fail(exc) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}")


@app.command("add-exchange")
def add_exchange(
    ctx: typer.Context,
    name: str,
    api: Annotated[str, typer.Option(help=f"One of: {', '.join(sorted(exchanges.APIS))}.")],
    bank: Annotated[str, typer.Option(help="The bank it fills.")],
    config: Annotated[
        list[str] | None, typer.Option(help="key=value collaboration setting; repeat (e.g. filename=/path).")
    ] = None,
) -> None:
    """Configure an exchange. Credentials go in settings (exchange_credentials), never here."""
    container = state(ctx).container
    values = dict(item.split("=", 1) for item in (config or []) if "=" in item)
    try:
        with container.db.transaction() as session:
            target = service.get_bank_by_name(session, name=bank)
            exchanges.create_exchange(
                session, actor=operator(), clock=container.clock, name=name, api=api, bank_id=target.id, config=values
            )
    except TrustdeskError as exc:
        raise fail(exc) from None
    console.print(f"exchange [bold]{name}[/] ({api}) fills bank {bank}")


def parse_every(text: str) -> float:
    """'30s', '15m', '2h' in seconds."""
    found = _EVERY.match(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise typer.BadParameter("use a number and s, m or h, e.g. 15m")
    return int(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2)]


@app.command()
def fetch(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="One exchange (default: every enabled one).")] = None,
    every: Annotated[str | None, typer.Option(help="Keep fetching on this interval, e.g. 15m (the scheduler loop).")] = None,
) -> None:
    """Fetch exchanges into their banks, resuming from each one's checkpoint."""
    interval = parse_every(every) if every else None
    while True:
        failed = _fetch_once(ctx, name)
        if interval is None:
            raise typer.Exit(code=1 if failed else 0)
        time.sleep(interval)


def _fetch_progress(status: Status, name: str) -> Callable[[int, int], None]:
    def show(seen: int, added: int) -> None:
        status.update(f"fetching {name}: {seen} records, {added} added")

    return show


def _fetch_once(ctx: typer.Context, name: str | None) -> bool:
    cli = state(ctx)
    container = cli.container
    with container.db.transaction() as session:
        names = [name] if name else [e.name for e in exchanges.list_exchanges(session) if e.enabled]
    failed = False
    for each in names:
        with console.status(f"fetching {each}…") as status:
            report = exchanges.run_fetch(
                container.db.transaction,
                actor=operator(),
                clock=container.clock,
                name=each,
                credentials=cli.settings.exchange_credentials,
                progress=_fetch_progress(status, each),
            )
        if report.error:
            failed = True
            err_console.print(
                f"[red]{each}: failed[/] after {report.added} added: {report.error} (the next fetch resumes from the last checkpoint)"
            )
        else:
            console.print(
                f"{each}: {report.records} records, {report.added} added, {report.disabled} disabled, "
                f"{report.skipped_invalid} invalid skipped, {report.retro_matches} retroactive matches"
            )
    return failed


def match_folder(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of media files (searched recursively).")],
) -> None:
    """Hash every file in a folder and match it against the banks (nothing is stored)."""
    container = state(ctx).container
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    matcher = MatchService(max_entries=container.settings.match_max_entries, refresh_seconds=3600)
    table = Table("file", "pdq quality", "bank", "entry", "signal", "distance", "orientation")
    unreadable, matched = [], 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with container.db.transaction() as session, Progress(*columns, console=console) as progress:
        task = progress.add_task("hashing and matching", total=len(files))
        for path in files:
            try:
                found = lookup.lookup_file(session, matcher=matcher, data=path.read_bytes())
            except TrustdeskError as exc:
                unreadable.append(f"{path.relative_to(folder)}: {exc.detail}")
            else:
                matched += bool(found.result.matches)
                for m in found.result.matches:
                    table.add_row(
                        str(path.relative_to(folder)),
                        str(found.hashes.pdq_quality or "—"),
                        m.bank,
                        str(m.entry_id),
                        m.signal_type,
                        str(m.distance),
                        m.orientation,
                    )
            progress.advance(task)
    console.print(table if matched else "no matches")
    console.print(f"{len(files)} files, {matched} matched, {len(unreadable)} unreadable")
    for line in unreadable:
        err_console.print(f"[yellow]unreadable[/] {line}")
