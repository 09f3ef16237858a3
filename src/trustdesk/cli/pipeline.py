"""`trustdesk pipeline ...` (replay events from a file, run a worker, dead letters) and
`trustdesk rules ...` (check a rule file, backtest it on stored events)."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.settings import BusKind
from trustdesk.safety.pipeline import deadletters, ingest
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.retention import purge_payloads
from trustdesk.safety.pipeline.runtime import PipelineRuntime, build_runtime
from trustdesk.safety.rules.backtest import run_backtest
from trustdesk.safety.rules.language import load_rule_file
from trustdesk.safety.rules.model import RuleError
from trustdesk.safety.signals import index as index_kernels

app = typer.Typer(help="The event pipeline: replay events, run workers, dead letters.", no_args_is_help=True)
rules_app = typer.Typer(help="The rules: check files, backtest them on stored events.", no_args_is_help=True)
Prefix = Annotated[
    str | None,
    typer.Option(
        "--prefix",
        help="Bus subject prefix (one per deployment); default: the pipeline_prefix setting (TRUSTDESK_PIPELINE_PREFIX).",
    ),
]
HashList = Annotated[
    Path | None,
    typer.Option(
        "--hash-list", exists=True, dir_okay=False, help="JSON lines of {bank, entry_id, pdq|md5|sha256} to match media against."
    ),
]


def _runtime(ctx: typer.Context, prefix: str | None, hash_list: Path | None = None, **options: Any) -> PipelineRuntime:
    container = state(ctx).container
    if hash_list is not None:
        container.pipeline.hash_matcher = load_hash_list(hash_list)
    return build_runtime(container, prefix=prefix, **options)


def load_hash_list(path: Path) -> InMemoryHashMatcher:
    """A local hash list file: one JSON object per line."""
    matcher = InMemoryHashMatcher()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("pdq"):
                matcher.add_pdq(row["bank"], [(str(row["entry_id"]), row["pdq"])])
            for key in ("md5", "sha256"):
                if row.get(key):
                    matcher.add_exact(row["bank"], [(str(row["entry_id"]), row[key])])
        except (ValueError, KeyError, TypeError) as exc:
            raise typer.BadParameter(f"{path}:{number}: {exc}") from exc
    matcher.compact()  # the lines were added one by one, into the index's linearly scanned tail
    return matcher


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, line


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)


@app.command()
def replay(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines, one event per line.")],
    prefix: Prefix = None,
    batch: Annotated[int, typer.Option(min=1, max=5000)] = 1000,
    hash_list: HashList = None,
) -> None:
    """Submit every event of FILE again. Events already handled are skipped (handling is
    idempotent by id); bad lines are reported with their number and skipped. With the
    in-process bus this command also handles the events; with NATS, the workers do."""
    runtime = _runtime(ctx, prefix, hash_list)
    total = sum(1 for _ in _lines(file))
    bad = asyncio.run(_replay(runtime, file, total, batch))
    console.print(f"{total - len(bad)} events submitted, {len(bad)} refused")
    for number, detail in bad[:20]:
        err_console.print(f"[red]line {number}[/]: {detail}")
    if bad:
        raise typer.Exit(code=1)


async def _replay(runtime: PipelineRuntime, file: Path, total: int, batch: int) -> list[tuple[int, str]]:
    bad: list[tuple[int, str]] = []
    await runtime.start(run_worker=False)
    try:
        with _progress() as progress:
            task = progress.add_task(f"replaying {file.name}", total=total)
            chunk: list[tuple[int, str]] = []
            for item in _lines(file):
                chunk.append(item)
                if len(chunk) >= batch:
                    await _submit_chunk(runtime, chunk, bad)
                    progress.advance(task, len(chunk))
                    chunk = []
            if chunk:
                await _submit_chunk(runtime, chunk, bad)
                progress.advance(task, len(chunk))
    finally:
        await runtime.stop()
    return bad


async def _submit_chunk(runtime: PipelineRuntime, chunk: list[tuple[int, str]], bad: list[tuple[int, str]]) -> None:
    events = []
    for number, line in chunk:
        try:
            events.append(ingest.validate([json.loads(line)])[0])
        except (ValueError, TrustdeskError) as exc:
            bad.append((number, getattr(exc, "detail", str(exc))))
    await ingest.submit(runtime.bus, events)
    if runtime.embedded:
        await runtime.worker.drain(idle_timeout=0)


@app.command()
def worker(
    ctx: typer.Context,
    prefix: Prefix = None,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Events fetched and handled per transaction.")] = 500,
    ack_wait: Annotated[float, typer.Option(min=1, help="Seconds before an unacknowledged event is delivered again.")] = 30.0,
    name: Annotated[str | None, typer.Option(help="This worker's name in the event records.")] = None,
    hash_list: HashList = None,
) -> None:
    """Handle events from the NATS bus until stopped (SIGINT or SIGTERM). Start as many as
    you like, on as many hosts: they share one work queue."""
    if state(ctx).settings.bus is not BusKind.NATS:
        err_console.print("[red]refused[/]: the in-process bus lives inside one process; set TRUSTDESK_BUS=nats to run workers")
        raise typer.Exit(code=2)
    index_kernels.warm_up()  # compile the matching kernels before taking events, not inside a batch
    runtime = _runtime(ctx, prefix, hash_list, ack_wait=ack_wait, worker_name=name, batch=batch)
    try:
        asyncio.run(_work(runtime))
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"worker stopped: {runtime.worker.stats}")


async def _work(runtime: PipelineRuntime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start(run_worker=False)
    runtime.ensure_queues()
    # The rules, indexes and hash banks live as long as the process: keep them out of the
    # garbage collector's full scans, which otherwise stall every few thousand events.
    gc.collect()
    gc.freeze()
    console.print(f"worker on {runtime.bus.prefix} (rules {runtime.book.status().ruleset_version})", highlight=False)
    try:
        await runtime.worker.run(stop, fetch_timeout=1.0)
    finally:
        await runtime.stop()


@app.command("dead-letters")
def dead_letters(ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, max=500)] = 50) -> None:
    """List the dead letters waiting for a person."""
    with state(ctx).container.db.transaction() as session:
        rows = deadletters.waiting(session, limit=limit)
        table = Table("#", "when", "event", "attempts", "error", title=f"{len(rows)} dead letters")
        for row in rows:
            table.add_row(
                str(row.id), row.at.isoformat(timespec="seconds"), row.event_id or "-", str(row.attempts), row.error[:200]
            )
    console.print(table)


@app.command("replay-dead")
def replay_dead(ctx: typer.Context, dead_letter_id: int, prefix: Prefix = None) -> None:
    """Send one dead letter back to the pipeline (once its cause is fixed)."""
    runtime = _runtime(ctx, prefix)
    container = state(ctx).container

    async def go() -> None:
        await runtime.start(run_worker=False)
        try:
            with container.db.transaction() as session:
                await deadletters.replay(
                    session, bus=runtime.bus, actor=operator(), clock=container.clock, dead_letter_id=dead_letter_id
                )
            if runtime.embedded:
                await runtime.worker.drain(idle_timeout=0)
        finally:
            await runtime.stop()

    try:
        asyncio.run(go())
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"dead letter {dead_letter_id} replayed")


@app.command()
def purge(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Keep this many days (default: the pipeline_payload_days setting).")
    ] = None,
) -> None:
    """Blank the content of events handled longer ago than the retention period (run it daily)."""
    cli = state(ctx)
    keep = days or cli.settings.pipeline_payload_days
    try:
        with cli.container.db.transaction() as session:
            count = purge_payloads(session, actor=operator(), clock=cli.container.clock, days=keep)
    except TrustdeskError as exc:
        raise fail(exc) from exc
    console.print(f"{count} event payloads older than {keep} days blanked")


@rules_app.command()
def check(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Rule files to check.")]) -> None:
    """Parse and compile rule files; print each rule, and every problem with its line."""
    problems = 0
    for path in files:
        try:
            loaded = load_rule_file(path)
        except RuleError as exc:
            problems += len(exc.problems)
            for problem in exc.problems:
                err_console.print(f"[red]{problem}[/]", highlight=False)
            continue
        console.print(
            f"{path}: ruleset {loaded.ruleset} v{loaded.version}, {len(loaded.rules)} rules, {len(loaded.lists)} lists",
            highlight=False,
        )
        for rule in loaded.rules:
            console.print(f"  [green]ok[/] {rule.ref} ({rule.mode}) line {rule.line}", highlight=False)
        for problem in loaded.problems:
            err_console.print(f"[red]{problem}[/]", highlight=False)
        problems += len(loaded.problems)
    if problems:
        raise typer.Exit(code=1)


@rules_app.command()
def backtest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    since: Annotated[datetime | None, typer.Option(help="ISO time with zone; default: from the first stored event.")] = None,
    until: Annotated[datetime | None, typer.Option(help="ISO time with zone; default: to the last.")] = None,
    hash_list: HashList = None,
) -> None:
    """Run FILE's rules over the stored events and show each rule's hits; changes nothing
    but the stored backtest result."""
    for value in (since, until):
        if value is not None and value.tzinfo is None:
            raise typer.BadParameter("give times with their zone, e.g. 2026-03-01T00:00:00+00:00")
    try:
        rule_file = load_rule_file(file)
    except RuleError as exc:
        raise fail(exc) from exc
    container = state(ctx).container
    matcher = load_hash_list(hash_list) if hash_list else None
    with _progress() as progress, container.db.transaction() as session:
        task = progress.add_task(f"backtesting {file.name}", total=None)
        row = run_backtest(
            session,
            actor=operator(),
            clock=container.clock,
            rule_file=rule_file,
            since=since,
            until=until,
            hashes=matcher,
            progress=lambda n: progress.advance(task, n),
        )
    table = Table(
        "rule",
        "version",
        "mode",
        "hits",
        "sample events",
        title=f"{rule_file.ruleset} v{rule_file.version} over {row.events} events",
    )
    for name, result in row.results.items():
        table.add_row(name, str(result["version"]), result["mode"], str(result["hits"]), ", ".join(result["samples"][:5]))
    console.print(table)
