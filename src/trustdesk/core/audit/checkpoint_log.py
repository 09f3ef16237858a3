"""The checkpoint log of the audit chain, read and checked: a file of JSON lines (or its
published JSON copy) whose records are keys and signed checkpoints (see `checkpoints.py` for
how they are written, and docs/transparency.md for the format).

Reading needs no secret: this is what an outsider's check does, from the first line on."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from trustdesk.core.audit.service import GENESIS, canonical
from trustdesk.core.errors import TrustdeskError

LOG_NAME = "audit-checkpoints.jsonl"


class CheckpointLogError(TrustdeskError):
    """The log does not hold: a record is malformed, out of its chain, or wrongly signed."""

    status, type_slug, title = 409, "audit-checkpoint-log", "The audit checkpoint log does not verify"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    at: datetime
    key_id: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.seq} of {self.at:%Y-%m-%d %H:%M:%S}Z (log line {self.line}, key {self.key_id})"


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    public_key: str
    at: datetime
    replaces: str | None
    line: int


@dataclass
class CheckpointLog:
    """A log as read and checked: every record verbatim, the keys in order, the checkpoints."""

    records: list[dict[str, Any]] = field(default_factory=list)
    keys: list[KeyRecord] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def key(self) -> KeyRecord | None:
        return self.keys[-1] if self.keys else None

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def last_digest(self) -> str:
        return _digest(self.records[-1]) if self.records else GENESIS


def key_id(public_key: bytes) -> str:
    """As the provider's other keys are named: the first 16 hex digits of the public key."""
    return public_key.hex()[:16]


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def _signature_holds(public_key_b64: str, record: dict[str, Any]) -> bool:
    body = {k: v for k, v in record.items() if k != "sig"}
    try:
        VerifyKey(base64.b64decode(public_key_b64)).verify(canonical(body), base64.b64decode(record["sig"]))
    except (BadSignatureError, KeyError, ValueError, TypeError):
        return False
    return True


def log_path(path: Path) -> Path:
    """A log is named by its file or by the directory holding it."""
    return path / LOG_NAME if path.is_dir() else path


def records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of a log file (JSON lines) or of its published copy (the JSON document of
    `/transparency/audit-checkpoints.json`), numbered from 1, parsed but not checked. A last
    line without its newline is a record still being written, and is not read."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            published = json.loads(text)["records"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CheckpointLogError(f"{path}: not a copy of /transparency/audit-checkpoints.json (no 'records')") from None
        yield from enumerate(published, start=1)
        return
    lines = text.split("\n")
    for number, line in enumerate(lines[:-1], start=1):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError:
            raise CheckpointLogError(f"{path} line {number}: not a JSON record", line=number) from None


def read(path: Path) -> CheckpointLog:
    """The log at `path`, every record checked in order: its link to the one before, its
    signature by the key in force, a key rotation signed by the key it replaces, checkpoints
    that never go back. Raises CheckpointLogError naming the first line that does not hold."""
    log = CheckpointLog()
    for number, record in records(path):
        if not isinstance(record, dict):
            raise CheckpointLogError(f"{path} line {number}: not a JSON object", line=number)
        problem = check_record(log, number, record)
        if problem:
            raise CheckpointLogError(f"{path} line {number}: {problem}", line=number)
        log.records.append(record)
    return log


def check_record(log: CheckpointLog, number: int, record: dict[str, Any]) -> str | None:
    if record.get("prev") != log.last_digest:
        return "does not follow the record before it (its prev hash differs): a record was removed, inserted or reordered"
    try:
        if record.get("type") == "key":
            return _check_key(log, number, record)
        if record.get("type") == "checkpoint":
            return _check_checkpoint(log, number, record)
    except (KeyError, TypeError, ValueError) as exc:
        return f"malformed record ({type(exc).__name__}: {exc})"
    return f"unknown record type {record.get('type')!r}"


def _check_key(log: CheckpointLog, number: int, record: dict[str, Any]) -> str | None:
    public_key = record["public_key"]
    if record["key_id"] != key_id(base64.b64decode(public_key)):
        return "the key id is not that of the public key"
    signer = log.key
    if signer is None and (record.get("replaces") is not None or record["signed_by"] != record["key_id"]):
        return "the first key must be signed by itself and replace none"
    if signer is not None and (record.get("replaces") != signer.key_id or record["signed_by"] != signer.key_id):
        return f"a new key must be signed by the key it replaces, {signer.key_id}"
    if not _signature_holds(public_key if signer is None else signer.public_key, record):
        return f"the signature of key {record['key_id']} does not verify"
    log.keys.append(KeyRecord(record["key_id"], public_key, datetime.fromisoformat(record["at"]), record.get("replaces"), number))
    return None


def _check_checkpoint(log: CheckpointLog, number: int, record: dict[str, Any]) -> str | None:
    signer, latest = log.key, log.latest
    if signer is None or record["key_id"] != signer.key_id:
        return f"signed by key {record['key_id']}, but the key in force is {signer.key_id if signer else 'none'}"
    if not _signature_holds(signer.public_key, record):
        return f"the signature does not verify with key {signer.key_id}: the checkpoint was forged or altered"
    checkpoint = Checkpoint(int(record["seq"]), str(record["head"]), datetime.fromisoformat(record["at"]), signer.key_id, number)
    if latest is not None and (checkpoint.seq < latest.seq or (checkpoint.seq == latest.seq and checkpoint.head != latest.head)):
        return f"goes back from checkpoint {latest}"
    log.checkpoints.append(checkpoint)
    return None


@dataclass(frozen=True)
class Published:
    """What the public transparency page shows of a log: its keys, its latest checkpoints
    (newest first), and every record as written for the JSON copy."""

    keys: list[dict[str, Any]]
    recent: list[dict[str, Any]]
    records: list[dict[str, Any]]
    checkpoints: int
    problem: str | None = None


def published(path: Path, *, recent: int | None = 20) -> Published:
    """The log as it stands, parsed but not checked (checking is for whoever reads it: the
    page shows what the platform committed to, right or wrong)."""
    found: list[dict[str, Any]] = []
    problem = None
    try:
        found = [record for _, record in records(path)] if path.exists() else []
    except CheckpointLogError as exc:
        problem = exc.detail
    keys = [r for r in found if r.get("type") == "key"]
    marks = [r for r in found if r.get("type") == "checkpoint"]
    return Published(keys, marks[::-1][:recent], found, len(marks), problem)
