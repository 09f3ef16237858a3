"""What the simulator has sent and received, as JSON lines in its state folder, so that
`send` (one process per form) and `serve` (the long-running WISP side) share one memory: the
server reads it to know which orders exist, what the enforcing authority decided and which
were withdrawn, and writes each received call with its verdict."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SENT = "sent.jsonl"
RECEIVED = "received.jsonl"
ANSWERS = "answers.jsonl"
_lock = threading.Lock()


@dataclass
class OrderState:
    """An order as the Member State side knows it."""

    authorisation_id: str
    transaction_id: str
    legal_type: str
    kind: str
    sent_at: datetime
    priority: str | None = None
    task_ids: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    refusal: str | None = None
    refused: list[str] = field(default_factory=list)
    withdrawn: bool = False
    ended: bool = False


@dataclass(frozen=True)
class Received:
    path: str
    transaction_id: str
    authorisation_id: str
    at: datetime
    problems: list[str]
    sha256: str
    detail: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    with _lock, path.open("ab") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Ledger:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def record_sent(self, record: dict[str, Any]) -> None:
        _append(self.folder / SENT, {"at": datetime.now(UTC).isoformat(), **record})

    def record_received(self, received: Received) -> None:
        _append(
            self.folder / RECEIVED,
            {
                "path": received.path,
                "transaction_id": received.transaction_id,
                "authorisation_id": received.authorisation_id,
                "at": received.at.isoformat(),
                "problems": received.problems,
                "sha256": received.sha256,
                "detail": received.detail,
            },
        )

    def record_answer(self, *, transaction_id: str, path: str, status: int, body: bytes) -> None:
        """How the provider answered one message the simulator sent."""
        _append(
            self.folder / ANSWERS,
            {"transaction_id": transaction_id, "path": path, "status": status, "body": body[:2000].decode(errors="replace")},
        )

    def answers(self) -> list[dict[str, Any]]:
        return _read(self.folder / ANSWERS)

    def sent(self) -> list[dict[str, Any]]:
        return _read(self.folder / SENT)

    def received(self) -> list[Received]:
        return [
            Received(
                path=r["path"],
                transaction_id=r["transaction_id"],
                authorisation_id=r["authorisation_id"],
                at=datetime.fromisoformat(r["at"]),
                problems=r["problems"],
                sha256=r["sha256"],
                detail=r.get("detail", {}),
            )
            for r in _read(self.folder / RECEIVED)
        ]

    def orders(self) -> dict[str, OrderState]:
        """Every order sent, with what was sent about it since, by authorisation id."""
        orders: dict[str, OrderState] = {}
        for record in self.sent():
            aid, path = record["authorisation_id"], record["path"]
            if path in ("production", "preservation", "subsequentproduction"):
                orders[aid] = OrderState(
                    authorisation_id=aid,
                    transaction_id=record["transaction_id"],
                    legal_type="EPOC-PR" if path == "preservation" else "EPOC",
                    kind=record.get("kind", ""),
                    sent_at=datetime.fromisoformat(record["at"]),
                    priority=record.get("priority"),
                    task_ids=list(record.get("task_ids", [])),
                    categories=list(record.get("categories", [])),
                )
            elif aid in orders:
                order = orders[aid]
                if path == "groundsforrefusal":
                    order.refusal, order.refused = record["kind"], list(record.get("refused", []))
                elif path == "withdraw":
                    order.withdrawn = True
                elif path == "endpreservation":
                    order.ended = True
        return orders
