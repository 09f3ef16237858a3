"""Bank import and export: CSV (every field), and python-threatexchange's signal file format
(`<signal type> <value>` per line, what its local-file exchange reads and writes and what
its CLI and HMA exchange), parsed by the library's own `LocalFileSignalExchangeAPI`. A vPDQ
entry is written as its whole signal (python-threatexchange's JSON of frames, `vpdq [...]`),
never as the digest its `value` column holds."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.banks.models import BankEntry
from trustdesk.safety.banks.service import NewEntry, get_bank
from trustdesk.safety.signals.types.registry import active

CSV_COLUMNS = ("signal_type", "value", "notes", "enabled", "exchange", "external_id", "fetched_at", "created_at")
MAX_IMPORT_BYTES = 64 * 1024 * 1024


class TransferFormat(StrEnum):
    CSV = "csv"
    THREATEXCHANGE = "threatexchange"


def parse(data: bytes, *, fmt: TransferFormat | str) -> list[NewEntry]:
    """Entries from an uploaded file; a clear error (with the line) for anything wrong."""
    if not data.strip():
        raise InvalidInput("The file is empty: nothing to import.", field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"Import files are at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; split it.", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", field="file") from None
    return parse_csv(text) if TransferFormat(fmt) is TransferFormat.CSV else parse_threatexchange(text)


def parse_csv(text: str) -> list[NewEntry]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"signal_type", "value"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(
            f"The CSV needs a header row with at least signal_type and value; missing: {', '.join(sorted(missing))}."
        )
    entries = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        entries.append(
            NewEntry(
                signal_type=(row.get("signal_type") or "").strip(),
                value=(row.get("value") or "").strip(),
                notes=(row.get("notes") or "").strip(),
                external_id=(row.get("external_id") or "").strip() or None,
            )
        )
    return entries


def parse_threatexchange(text: str) -> list[NewEntry]:
    """Read with python-threatexchange's local-file exchange, so what it accepts we accept."""
    known = active().exchange_names()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    unknown = [(n, line) for n, line in enumerate(lines, start=1) if line.partition(" ")[0] not in known]
    if unknown:
        number, line = unknown[0]
        raise InvalidInput(f"Line {number}: unknown signal type in '{line[:80]}'. Known: {', '.join(known)}.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signals.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        api = LocalFileSignalExchangeAPI.for_collab(
            FileCollaborationConfig(name="import", api="local_file", enabled=True, filename=str(path))
        )
        keys = [key for delta in api.fetch_iter([], None) for key in delta.updates]
    return [NewEntry(signal_type=known[kind].name, value=value) for kind, value in keys]


def export(session: Session, *, bank_id: int, fmt: TransferFormat | str) -> Iterator[str]:
    """The bank's entries, streamed in id order (chunks of text)."""
    get_bank(session, bank_id=bank_id)
    if TransferFormat(fmt) is TransferFormat.CSV:
        yield _csv_line(CSV_COLUMNS)
        for entry in _entries(session, bank_id):
            yield _csv_line(
                (
                    entry.signal_type,
                    entry.signal_data or entry.value,
                    entry.notes,
                    "true" if entry.enabled else "false",
                    entry.exchange or "",
                    entry.external_id or "",
                    _iso(entry.fetched_at),
                    _iso(entry.created_at),
                )
            )
        return
    registry = active()
    for entry in _entries(session, bank_id):
        kind = registry.get(entry.signal_type)
        if kind is not None and kind.exchange_name is not None and entry.enabled:
            yield f"{kind.exchange_name} {entry.signal_data or entry.value}\n"


def _entries(session: Session, bank_id: int) -> Iterator[BankEntry]:
    last = 0
    while True:
        query = select(BankEntry).where(BankEntry.bank_id == bank_id, BankEntry.id > last).order_by(BankEntry.id).limit(5000)
        batch = list(session.scalars(query))
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _csv_line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _iso(value: object) -> str:
    return value.isoformat() if value is not None else ""  # type: ignore[attr-defined]
