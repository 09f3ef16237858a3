"""The data map (data/datamap.toml) as typed values: what each table and file holds about whom,
why, on which basis, and what retention does at the end of its period. The file is the fact;
this module only reads and checks it, and the record of processing and retention run on it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.core.errors import InvalidInput
from trustdesk.core.settings import Settings

DATAMAP = Path(__file__).parent / "data" / "datamap.toml"


class Category(StrEnum):
    """Whose data, or what kind: the people in the data and the kinds the law names."""

    REPORTER = "reporter"
    REPORTED_USER = "reported_user"
    THIRD_PARTY = "third_party"
    OFFICER = "officer"
    STAFF = "staff"
    CONTENT = "content"
    TRAFFIC = "traffic"
    SUBSCRIBER = "subscriber"
    PRESERVED_EVIDENCE = "preserved_evidence"
    AUTHORITY_REQUEST = "authority_request"


class Action(StrEnum):
    """What retention does to a row at the end of its period."""

    KEEP = "keep"  # no period of its own (kept with its record, or managed with an account)
    PSEUDONYMISE = "pseudonymise"  # personal fields emptied, identifiers replaced by a mark
    PURGE = "purge"  # the content emptied (and files deleted); the row stays as the record
    DELETE = "delete"  # the row itself goes (sessions, counters): nothing rests on it


class Erasure(StrEnum):
    ERASE = "erase"
    KEEP = "keep"


@dataclass(frozen=True)
class Purpose:
    key: str
    name: str
    description: str
    legal_basis: str
    recipients: tuple[str, ...]
    transfers: str


@dataclass(frozen=True)
class TableEntry:
    table: str
    categories: tuple[Category, ...]
    purpose: str
    legal_basis: str
    personal: tuple[str, ...]
    action: Action
    retention: str
    erasure: Erasure
    erasure_basis: str = ""
    starts: str | None = None
    retention_days: int | None = None
    retention_setting: str | None = None
    clear: tuple[str, ...] = ()
    pseudonymise: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    via: tuple[str, str, str] | None = None
    files: tuple[str, ...] = ()

    def period_days(self, settings: Any = None) -> int | None:
        """The period in days: its own, or the setting named (the setting's default without
        settings)."""
        if self.retention_setting is None:
            return self.retention_days
        if settings is not None:
            return int(getattr(settings, self.retention_setting))
        return int(Settings.model_fields[self.retention_setting].default)

    @property
    def linked(self) -> bool:
        """Whether a platform user's rows can be found here (for holds, rights)."""
        return bool(self.match) or self.via is not None


@dataclass(frozen=True)
class FileEntry:
    name: str
    categories: tuple[Category, ...]
    purpose: str
    holds: str
    retention: str


@dataclass(frozen=True)
class Controller:
    name: str
    contact: str
    security: tuple[str, ...]


@dataclass(frozen=True)
class DataMap:
    version: str
    controller: Controller
    purposes: dict[str, Purpose]
    tables: dict[str, TableEntry]
    files: tuple[FileEntry, ...]
    no_personal_data: dict[str, str] = field(default_factory=dict)

    def entry(self, table: str) -> TableEntry:
        return self.tables[table]

    def retained(self) -> list[TableEntry]:
        """The entries retention acts on, in the file's order."""
        return [e for e in self.tables.values() if e.action is not Action.KEEP]


def _table(raw: dict[str, Any], purposes: dict[str, Purpose]) -> TableEntry:
    name = raw.get("table", "?")
    try:
        entry = TableEntry(
            table=raw["table"],
            categories=tuple(Category(c) for c in raw["categories"]),
            purpose=raw["purpose"],
            legal_basis=raw["legal_basis"],
            personal=tuple(raw["personal"]),
            action=Action(raw["action"]),
            retention=raw["retention"],
            erasure=Erasure(raw["erasure"]),
            erasure_basis=raw.get("erasure_basis", ""),
            starts=raw.get("starts"),
            retention_days=raw.get("retention_days"),
            retention_setting=raw.get("retention_setting"),
            clear=tuple(raw.get("clear", ())),
            pseudonymise=tuple(raw.get("pseudonymise", ())),
            match=tuple(raw.get("match", ())),
            via=tuple(raw["via"]) if "via" in raw else None,  # type: ignore[arg-type]
            files=tuple(raw.get("files", ())),
        )
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"The data map's entry for {name} is malformed: {exc}.", field=name) from exc
    _check(entry, purposes)
    return entry


def _check(entry: TableEntry, purposes: dict[str, Purpose]) -> None:
    problems = []
    if entry.purpose not in purposes:
        problems.append(f"unknown purpose {entry.purpose!r}")
    if entry.action is not Action.KEEP:
        if entry.starts is None:
            problems.append("a period needs `starts`")
        if (entry.retention_days is None) == (entry.retention_setting is None):
            problems.append("give one of retention_days and retention_setting")
    if entry.erasure is Erasure.KEEP and not entry.erasure_basis:
        problems.append("erasure = keep needs erasure_basis")
    stray = set(entry.clear) | set(entry.pseudonymise)
    if not stray <= set(entry.personal):
        problems.append(f"clear/pseudonymise name columns not in personal: {sorted(stray - set(entry.personal))}")
    if problems:
        raise InvalidInput(f"The data map's entry for {entry.table}: {'; '.join(problems)}.", field=entry.table)


def parse(text: str) -> DataMap:
    raw = tomllib.loads(text)
    purposes = {
        key: Purpose(key, p["name"], p["description"], p["legal_basis"], tuple(p["recipients"]), p["transfers"])
        for key, p in raw["purposes"].items()
    }
    tables: dict[str, TableEntry] = {}
    for item in raw["tables"]:
        entry = _table(item, purposes)
        if entry.table in tables or entry.table in raw.get("no_personal_data", {}):
            raise InvalidInput(f"The data map names {entry.table} twice.", field=entry.table)
        tables[entry.table] = entry
    files = tuple(
        FileEntry(f["name"], tuple(Category(c) for c in f["categories"]), f["purpose"], f["holds"], f["retention"])
        for f in raw.get("files", ())
    )
    c = raw["controller"]
    return DataMap(
        version=raw["version"],
        controller=Controller(c["name"], c["contact"], tuple(c["security"])),
        purposes=purposes,
        tables=tables,
        files=files,
        no_personal_data=dict(raw.get("no_personal_data", {})),
    )


@cache
def load(path: Path = DATAMAP) -> DataMap:
    return parse(path.read_text(encoding="utf-8"))
