"""A durable outbox on local disk, so that events Synapse hands the module while Trustdesk is
down are delivered once it is back, in order, even across a Synapse restart.

Stdlib only (sqlite3, json): it runs inside Synapse's own virtualenv. Rows are deleted only
after Trustdesk acknowledged them, so delivery is at least once; Trustdesk deduplicates by
event id."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SpooledItem:
    id: int
    body: dict[str, Any]
    attempts: int


class Spool:
    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " body TEXT NOT NULL, queued_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)"
        )

    def put(self, body: dict[str, Any]) -> None:
        self._db.execute("INSERT INTO outbox (body, queued_at) VALUES (?, ?)", (json.dumps(body), time.time()))

    def peek(self, limit: int = 100) -> list[SpooledItem]:
        rows = self._db.execute("SELECT id, body, attempts FROM outbox ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [SpooledItem(id=row[0], body=json.loads(row[1]), attempts=row[2]) for row in rows]

    def done(self, items: list[SpooledItem]) -> None:
        self._db.executemany("DELETE FROM outbox WHERE id = ?", [(item.id,) for item in items])

    def failed(self, items: list[SpooledItem]) -> None:
        self._db.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", [(item.id,) for item in items])

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()
