"""Retention that runs (issue #21): each table of the data map whose period ended is emptied as
the map says (pseudonymised, purged, or its rows deleted), except the rows a legal hold, an
open lawful request, an undecided appeal or a restriction keeps; disclosure packages' bytes
leave the blob store once their link has expired. Every run is one audit entry with counts,
never with the data.

`run_retention(session, ...)` does the work in the caller's transaction (what a scheduled job
calls); `run(db, ...)` is one whole job: a transaction, then the files, after the commit, so a
file is never gone while its row still says it is there."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.service import SYSTEM
from trustdesk.core.blobs import BlobStore
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database, rows_matched
from trustdesk.core.settings import Settings
from trustdesk.legal.disclosure.models import DisclosurePackage
from trustdesk.platform.port import Platform
from trustdesk.privacy import authors, rows
from trustdesk.privacy import datamap as datamap_
from trustdesk.privacy.datamap import Action, DataMap, TableEntry
from trustdesk.privacy.models import PurgedRow


@dataclass
class TableCounts:
    emptied: int = 0
    deleted: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # rows past their period kept, per obstacle

    def as_dict(self) -> dict[str, Any]:
        return {"emptied": self.emptied, "deleted": self.deleted, "kept": dict(sorted(self.kept.items()))}


@dataclass
class RetentionReport:
    at: datetime
    data_map_version: str
    dry_run: bool
    tables: dict[str, TableCounts] = field(default_factory=dict)
    files_due: list[str] = field(default_factory=list)  # blob keys to delete once committed
    files_deleted: int = 0

    @property
    def emptied(self) -> int:
        return sum(c.emptied for c in self.tables.values())

    @property
    def deleted(self) -> int:
        return sum(c.deleted for c in self.tables.values())

    @property
    def kept(self) -> int:
        return sum(sum(c.kept.values()) for c in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        """Counts only: what the audit entry, the API and the CLI show."""
        return {
            "at": self.at.isoformat(),
            "data_map_version": self.data_map_version,
            "dry_run": self.dry_run,
            "emptied": self.emptied,
            "deleted": self.deleted,
            "kept": self.kept,
            "files_due": len(self.files_due),
            "files_deleted": self.files_deleted,
            "tables": {t: c.as_dict() for t, c in self.tables.items() if c.emptied or c.deleted or c.kept},
        }


def _cutoff(entry: TableEntry, now: datetime, settings: Settings | None) -> datetime:
    days = entry.period_days(settings)
    assert days is not None  # the data map's check: every period that acts has one
    return now - timedelta(days=days)


def _delete(session: Session, entry: TableEntry, cutoff: datetime, *, dry_run: bool) -> int:
    """Rows with nothing resting on them (sessions, counters): gone past their period."""
    t = rows.table(entry.table)
    assert entry.starts is not None
    column = t.c[entry.starts]
    # the counters' minute is minutes since the epoch, not a time
    bound: Any = int(cutoff.timestamp() // 60) if entry.starts == "minute" else cutoff
    due = column < bound
    if dry_run:
        return session.scalar(select(func.count()).select_from(t).where(due)) or 0
    return rows_matched(session.execute(delete(t).where(due)))


def _empty(
    session: Session,
    entry: TableEntry,
    cutoff: datetime,
    *,
    kept_by: rows.Protection,
    pseudonyms: rows.Pseudonyms,
    now: datetime,
    dry_run: bool,
) -> TableCounts:
    t = rows.table(entry.table)
    assert entry.starts is not None
    column = t.c[entry.starts]
    query = rows.selection(entry, where=column.is_not(None) & (column <= cutoff))
    counts = TableCounts()
    for batch in rows.batches(session, query, rows.primary_key(t)):
        due = []
        for row in batch:
            obstacle = kept_by.obstacle(row[len(entry.clear) + 1 :]) if entry.linked else None
            if obstacle is None:
                due.append(row)
            else:
                counts.kept[obstacle.value] += 1
        if dry_run:
            counts.emptied += len(due)
        else:
            counts.emptied += rows.empty_rows(session, entry, due, pseudonyms=pseudonyms, at=now, cause="retention")
    return counts


def _package_files(session: Session) -> list[str]:
    """Blobs of packages retention emptied that no package still holding its bytes shares."""
    marked = select(PurgedRow.row_key).where(PurgedRow.table_name == DisclosurePackage.__tablename__)
    gone = set(
        session.scalars(select(DisclosurePackage.sha256).where(DisclosurePackage.id.cast(PurgedRow.row_key.type).in_(marked)))
    )
    live = set(
        session.scalars(select(DisclosurePackage.sha256).where(DisclosurePackage.id.cast(PurgedRow.row_key.type).not_in(marked)))
    )
    return sorted(gone - live)


# Any constant that names this job among PostgreSQL's advisory locks.
ADVISORY_LOCK = 0x7472_7573_7470_7276  # "trustprv"


def _one_at_a_time(session: Session) -> None:
    """Two runs at once (two processes, a job and an operator) take turns: on PostgreSQL an
    advisory lock held to the end of the transaction, on SQLite the write lock that BEGIN
    IMMEDIATE already holds. The second then finds the first's marks and empties nothing,
    instead of failing on them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK)))


def run_retention(
    session: Session,
    *,
    clock: Clock,
    settings: Settings | None = None,
    actor: Actor = SYSTEM,
    data_map: DataMap | None = None,
    dry_run: bool = False,
    platform: Platform | None = None,
) -> RetentionReport:
    """One retention pass over the data map in the caller's transaction; audited unless a dry
    run (which counts what would go and changes nothing). Files are left to `delete_files`.
    `platform` names the senders of held messages Trustdesk stores none for, so that a hold,
    an order or an appeal on an account keeps the notices about its messages (authors.py)."""
    data_map = data_map or datamap_.load()
    _one_at_a_time(session)
    now = clock.now()
    report = RetentionReport(at=now, data_map_version=data_map.version, dry_run=dry_run)
    kept_by, pseudonyms = rows.protection(session, authors.resolve(session, platform)), rows.Pseudonyms()
    for entry in data_map.retained():
        cutoff = _cutoff(entry, now, settings)
        if entry.action is Action.DELETE:
            report.tables[entry.table] = TableCounts(deleted=_delete(session, entry, cutoff, dry_run=dry_run))
        else:
            report.tables[entry.table] = _empty(
                session, entry, cutoff, kept_by=kept_by, pseudonyms=pseudonyms, now=now, dry_run=dry_run
            )
    if not dry_run:
        report.files_due = _package_files(session)
        record(
            session,
            actor=actor,
            clock=clock,
            action="privacy.retention.run",
            object_type="privacy_retention",
            reason=f"retention by the data map {data_map.version}",
            details=report.as_dict(),
        )
    return report


def delete_files(blobs: BlobStore, report: RetentionReport) -> int:
    """Delete the blobs a committed run found due; those already gone count for nothing."""
    deleted = 0
    for key in report.files_due:
        if blobs.exists(key):
            blobs.delete(key)
            deleted += 1
    report.files_deleted = deleted
    return deleted


def run(
    db: Database,
    *,
    clock: Clock,
    blobs: BlobStore,
    settings: Settings | None = None,
    actor: Actor = SYSTEM,
    dry_run: bool = False,
    platform: Platform | None = None,
) -> RetentionReport:
    """One retention job: the pass in its own transaction, committed, then the files."""
    with db.transaction() as session:
        report = run_retention(session, clock=clock, settings=settings, actor=actor, dry_run=dry_run, platform=platform)
    if not dry_run:
        delete_files(blobs, report)
    return report
