from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.core.audit import checkpoints
from trustdesk.core.audit import record as record_entry
from trustdesk.core.audit.models import AuditHead
from trustdesk.core.audit.service import verify_in_pages
from trustdesk.core.cpu import default_workers
from trustdesk.core.database import Database
from trustdesk.core.errors import TrustdeskError

app = typer.Typer(help="The audit chain and its signed checkpoints.", no_args_is_help=True)


def _checkpoints(ctx: typer.Context, given: Path | None, first_key: str | None) -> checkpoints.CheckpointLog | None:
    """The log `--checkpoints` names, else the deployment's own where it exists; checked, and
    starting with `first_key` when one is given."""
    path = checkpoints.log_path(given) if given is not None else checkpoints.Anchor.of(state(ctx).settings).log
    if given is None and not path.exists():
        return None
    if not path.exists():
        err_console.print(f"[bold red]no checkpoint log at {path}[/]")
        raise typer.Exit(code=2)
    try:
        log = checkpoints.read(path)
    except checkpoints.CheckpointLogError as exc:
        err_console.print(f"[bold red]checkpoint log does not verify[/]: {exc.detail}")
        raise typer.Exit(code=1) from None
    if first_key is not None and (not log.keys or log.keys[0].key_id != first_key):
        err_console.print(
            f"[bold red]checkpoint log does not verify[/]: {path} starts with key "
            f"{log.keys[0].key_id if log.keys else '(none)'}, not {first_key}: it is not the log that was published"
        )
        raise typer.Exit(code=1)
    return log


def _to_check(db: Database, since: checkpoints.Checkpoint | None) -> int | None:
    with db.read() as session:
        head = session.get(AuditHead, 1)
    return None if head is None else head.last_seq - (since.seq if since else 0)


@app.command()
def verify(
    ctx: typer.Context,
    checkpoints_at: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            exists=True,
            help="A checkpoint log (audit-checkpoints.jsonl), "
            "its directory, or a copy of /transparency/audit-checkpoints.json; default: the configured one, if any.",
        ),
    ] = None,
    first_key: Annotated[
        str | None,
        typer.Option(
            "--first-key",
            help="The key id the log must start with, as published earlier; "
            "without it, a log is trusted from its own first line.",
        ),
    ] = None,
    since_checkpoint: Annotated[
        bool,
        typer.Option(
            "--since-checkpoint",
            help="Check only the entries after the latest signed checkpoint (and that the chain still holds it): "
            "what the checkpoint covers was checked when it was signed. Time grows with what came after it.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=0, help="Processes that walk stretches of a long chain side by side; 0 (the default): one per CPU."
        ),
    ] = 0,
) -> None:
    """Check every entry's hash and link, and that the chain still holds every signed
    checkpoint; exit 1 naming the first broken entry or the missing ones."""
    log = _checkpoints(ctx, checkpoints_at, first_key)
    if since_checkpoint and (log is None or log.latest is None):
        err_console.print(
            "[bold red]no signed checkpoint to start from[/]: run `trustdesk audit checkpoint`, or verify the whole chain"
        )
        raise typer.Exit(code=2)
    db = state(ctx).container.db
    since = log.checkpoints[-1] if since_checkpoint and log is not None else None
    with Progress(TextColumn("verifying the audit chain"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("verify", total=_to_check(db, since))
        result, _ = verify_in_pages(
            db,
            checkpoints=log.checkpoints if log else (),
            since=since,
            workers=workers or default_workers() + 1,
            progress=lambda checked: progress.update(task, completed=checked),
        )
    if not result.ok:
        err_console.print(
            f"[bold red]audit chain broken at entry {result.first_broken}[/]: {result.problem} "
            f"({result.checked} entries before it are intact)"
        )
        raise typer.Exit(code=1)
    where = f" after checkpoint {since}" if since is not None else ""
    console.print(f"[green]audit chain intact[/]: {result.checked} entries verified{where}")
    if log is None or log.latest is None:
        console.print(
            "[yellow]no signed checkpoint to hold it to[/]: a chain rewritten with recomputed hashes, or emptied, "
            "cannot be told from a true one (run `trustdesk audit checkpoint`)"
        )
        return
    keys = ", ".join(k.key_id for k in log.keys)
    console.print(f"and it holds all {len(log.checkpoints)} signed checkpoints (latest: entry {log.latest}; keys {keys})")


@app.command()
def checkpoint(
    ctx: typer.Context,
    every: Annotated[float, typer.Option("--every", min=0, help="Seconds between checkpoints, until stopped; 0: one now.")] = 0,
) -> None:
    """Sign the chain's head and append it to the checkpoint log (after checking that the
    chain still extends the latest checkpoint)."""
    cli = state(ctx)
    anchor = checkpoints.Anchor.of(cli.settings)
    while True:
        try:
            mark, new = checkpoints.take(cli.container.db, anchor, clock=cli.container.clock)
        except TrustdeskError as exc:
            raise fail(exc) from None
        what = "signed checkpoint" if new else "head unchanged since checkpoint"
        console.print(f"{what} {mark}: head {mark.head} -> {anchor.log}")
        if every <= 0:
            return
        time.sleep(every)


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why the key is changed (recorded in the audit chain).")],
) -> None:
    """Replace the checkpoint signing key: the new key is signed by the old one in the log,
    the rotation is an audit entry, and a checkpoint signed by the new key follows."""
    cli = state(ctx)
    anchor, container = checkpoints.Anchor.of(cli.settings), cli.container
    try:
        old, new = checkpoints.rotate_key(anchor, clock=container.clock)
        with container.db.transaction() as session:
            record_entry(
                session,
                actor=operator(),
                action="audit.key_rotated",
                object_type="audit_key",
                object_id=new.key_id,
                reason=reason,
                details={"replaces": old.key_id, "key_id": new.key_id, "log_line": new.line},
                clock=container.clock,
            )
        mark, _ = checkpoints.take(container.db, anchor, clock=container.clock)
    except TrustdeskError as exc:
        raise fail(exc) from None
    console.print(f"key {old.key_id} replaced by {new.key_id} (log line {new.line}); checkpoint {mark} signed with it")
