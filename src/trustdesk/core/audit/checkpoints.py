"""Signed checkpoints of the audit chain, kept outside the database.

The chain alone has no key: whoever can write the database can rewrite every entry with
recomputed hashes, or empty the entries and the head, and it still verifies. A checkpoint
anchors it: the chain's length and last hash at a moment, signed with the deployment's
Ed25519 key (a file, never in the database) and appended to a log of JSON lines outside the
database, which the public transparency page publishes. `service.verify(checkpoints=...)`
then holds the stored chain to every checkpoint.

The log is a chain too: every record carries the SHA-256 of the one before (`prev`); its
first record is the first key, signed by itself; a key rotation is a record signed by the key
it replaces. So the log is checked from its first line with no key known beforehand, and an
outsider compares the first key id with the one they saw published."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from trustdesk.core.audit.service import GENESIS, Verification, canonical, verify_in_pages
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, TrustdeskError
from trustdesk.core.settings import Settings

LOG_NAME = "audit-checkpoints.jsonl"
logger = logging.getLogger(__name__)


class CheckpointLogError(TrustdeskError):
    """The log does not hold: a record is malformed, out of its chain, or wrongly signed."""

    status, type_slug, title = 409, "audit-checkpoint-log", "The audit checkpoint log does not verify"


class ChainDiverged(Conflict):
    """The stored chain no longer extends the latest checkpoint: it is not signed again."""

    def __init__(self, detail: str, result: Verification) -> None:
        super().__init__(detail)
        self.result = result


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


@dataclass(frozen=True)
class Anchor:
    """Where this deployment keeps its signing key and its checkpoint log."""

    key_file: Path
    log: Path

    @classmethod
    def of(cls, settings: Settings) -> Anchor:
        key_file = settings.audit_key_file or settings.data_dir / "keys" / "audit-ed25519.key"
        return cls(key_file=key_file, log=(settings.audit_checkpoint_dir or settings.data_dir / "checkpoints") / LOG_NAME)


def key_id(public_key: bytes) -> str:
    """As the provider's other keys are named: the first 16 hex digits of the public key."""
    return public_key.hex()[:16]


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def _signed(key: SigningKey, record: dict[str, Any]) -> dict[str, Any]:
    """The signature covers the record's canonical JSON without `sig` (sorted keys, no spaces)."""
    return {**record, "sig": base64.b64encode(key.sign(canonical(record)).signature).decode()}


def _signature_holds(public_key_b64: str, record: dict[str, Any]) -> bool:
    body = {k: v for k, v in record.items() if k != "sig"}
    try:
        VerifyKey(base64.b64decode(public_key_b64)).verify(canonical(body), base64.b64decode(record["sig"]))
    except (BadSignatureError, KeyError, ValueError, TypeError):
        return False
    return True


# -- reading --------------------------------------------------------------------------------


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
        problem = _check(log, number, record)
        if problem:
            raise CheckpointLogError(f"{path} line {number}: {problem}", line=number)
        log.records.append(record)
    return log


def _check(log: CheckpointLog, number: int, record: dict[str, Any]) -> str | None:
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


# -- writing --------------------------------------------------------------------------------


@contextmanager
def _locked(anchor: Anchor) -> Iterator[CheckpointLog]:
    """The log, read and checked, under an exclusive lock: one writer at a time, whether the
    server's schedule or the CLI. A torn last line (a crash mid-write) is cut off first."""
    anchor.log.parent.mkdir(parents=True, exist_ok=True)
    with open(anchor.log.with_name(anchor.log.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _cut_torn_tail(anchor.log)
        yield read(anchor.log) if anchor.log.exists() else CheckpointLog()


def _cut_torn_tail(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
            os.fsync(fh.fileno())


def _append(anchor: Anchor, log: CheckpointLog, record: dict[str, Any]) -> None:
    """One line in one write, fsynced (and the directory too when the file is new) before
    the lock is let go; the record then joins `log`."""
    new = not anchor.log.exists()
    with anchor.log.open("ab") as fh:
        fh.write(canonical(record) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    if new:
        _fsync_dir(anchor.log.parent)
    problem = _check(log, len(log.records) + 1, record)
    assert problem is None, problem  # we just signed it
    log.records.append(record)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_key(path: Path, key: SigningKey) -> None:
    """Owner-only, in a directory only the owner can enter."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(bytes(key)) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


def _read_key(path: Path) -> SigningKey:
    return SigningKey(base64.b64decode(path.read_bytes().strip()))


def _staged(anchor: Anchor) -> Path:
    return anchor.key_file.with_name(anchor.key_file.name + ".next")


def _key_record(key: SigningKey, signer: SigningKey, *, log: CheckpointLog, at: datetime) -> dict[str, Any]:
    public = bytes(key.verify_key)
    replaces = log.key.key_id if log.key else None
    record = {"type": "key", "at": at.isoformat(), "key_id": key_id(public), "public_key": base64.b64encode(public).decode(),
              "replaces": replaces, "signed_by": key_id(bytes(signer.verify_key)), "prev": log.last_digest}
    return _signed(signer, record)


def _signing_key(anchor: Anchor, log: CheckpointLog, clock: Clock) -> SigningKey:
    """The key in force: created on first use (and its record opens the log); it must be the
    log's latest key. A rotation cut short after its record was written is finished here."""
    staged = _staged(anchor)
    if log.key is not None and staged.exists() and key_id(bytes(_read_key(staged).verify_key)) == log.key.key_id:
        staged.replace(anchor.key_file)
        _fsync_dir(anchor.key_file.parent)
    if not anchor.key_file.exists():
        if log.key is not None:
            raise CheckpointLogError(f"The signing key {anchor.key_file} is gone, but the log {anchor.log} is signed by key "
                                     f"{log.key.key_id}: restore the key file (a new key must be signed by the old one).")
        _write_key(anchor.key_file, SigningKey.generate())
    key = _read_key(anchor.key_file)
    if log.key is None:
        _append(anchor, log, _key_record(key, key, log=log, at=clock.now()))
    elif key_id(bytes(key.verify_key)) != log.key.key_id:
        raise CheckpointLogError(f"The key file {anchor.key_file} holds key {key_id(bytes(key.verify_key))}, but the log "
                                 f"{anchor.log} is signed by key {log.key.key_id}: this is not the deployment's key.")
    return key


def take(db: Database, anchor: Anchor, *, clock: Clock) -> tuple[Checkpoint, bool]:
    """Sign the chain's head as committed now and append it to the log; returns the
    checkpoint and whether it is new (an unchanged head is not signed again).

    The head is read in a transaction of its own, so a checkpoint never signs what may
    still roll back; and the chain is first checked to extend the latest checkpoint (only
    the entries since it are read, a page per transaction), so the key never endorses a
    chain changed underneath.
    Raises ChainDiverged when it does not."""
    with _locked(anchor) as log:
        key = _signing_key(anchor, log, clock)
        latest = log.latest
        result, head = verify_in_pages(db, since=latest)
        if not result.ok and latest is not None:  # name where: from the first entry, against every checkpoint
            result, _ = verify_in_pages(db, checkpoints=log.checkpoints)
        seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
        if not result.ok:
            raise ChainDiverged(f"The audit chain does not verify at entry {result.first_broken}: {result.problem}. "
                                "No checkpoint was signed.", result)
        if latest is not None and (latest.seq, latest.head) == (seq, head_hash):
            return latest, False
        record = {"type": "checkpoint", "at": clock.now().isoformat(), "seq": seq, "head": head_hash,
                  "key_id": key_id(bytes(key.verify_key)), "prev": log.last_digest}
        _append(anchor, log, _signed(key, record))
        return log.checkpoints[-1], True


def rotate_key(anchor: Anchor, *, clock: Clock) -> tuple[KeyRecord, KeyRecord]:
    """Replace the signing key: the new key's record, signed by the old key, goes into the
    log, then the new key replaces the old one's file (whose secret is gone after; its public
    key stays in the log). Returns the old key and the new."""
    with _locked(anchor) as log:
        old = _signing_key(anchor, log, clock)
        retired = log.key
        assert retired is not None  # _signing_key opened the log
        new, staged = SigningKey.generate(), _staged(anchor)
        staged.unlink(missing_ok=True)
        _write_key(staged, new)
        _append(anchor, log, _key_record(new, old, log=log, at=clock.now()))
        staged.replace(anchor.key_file)
        _fsync_dir(anchor.key_file.parent)
        return retired, log.keys[-1]


class Schedule:
    """Checkpoints on a timer, in a thread: what the server's lifespan starts every
    `audit_checkpoint_every_s` seconds (None when 0). The first comes soon after start (a
    server restarted more often than the period still leaves checkpoints); a failure is
    logged and tried again next time, and a chain that diverged is logged as an error."""

    def __init__(self, db: Database, anchor: Anchor, *, clock: Clock, every_s: float, first_after_s: float) -> None:
        self.db, self.anchor, self.clock, self.every_s, self.first_after_s = db, anchor, clock, every_s, first_after_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def start_for(cls, container: Any, *, every_s: float) -> Schedule | None:
        if every_s <= 0:
            return None
        schedule = cls(container.db, Anchor.of(container.settings), clock=container.clock, every_s=every_s, first_after_s=min(every_s, 60.0))
        schedule._thread = threading.Thread(target=schedule.run, name="audit-checkpoints", daemon=True)
        schedule._thread.start()
        return schedule

    def run(self) -> None:
        wait = self.first_after_s
        while not self._stop.wait(wait):
            try:
                take(self.db, self.anchor, clock=self.clock)
            except ChainDiverged as exc:
                logger.error("audit checkpoint refused: %s", exc.detail)
            except Exception:
                logger.exception("audit checkpoint failed; trying again next period")
            wait = self.every_s

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
