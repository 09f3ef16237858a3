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
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from trustdesk.core.audit.checkpoint_log import (
    LOG_NAME,
    Checkpoint,
    CheckpointLog,
    CheckpointLogError,
    KeyRecord,
    Published,
    check_record,
    key_id,
    log_path,
    published,
    read,
    records,
)
from trustdesk.core.audit.service import GENESIS, Verification, canonical, verify_in_pages
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict
from trustdesk.core.settings import Settings

__all__ = [
    "LOG_NAME",
    "Anchor",
    "ChainDiverged",
    "Checkpoint",
    "CheckpointLog",
    "CheckpointLogError",
    "KeyRecord",
    "Published",
    "key_id",
    "log_path",
    "published",
    "read",
    "records",
    "rotate_key",
    "take",
]


class ChainDiverged(Conflict):
    """The stored chain no longer extends the latest checkpoint: it is not signed again."""

    def __init__(self, detail: str, result: Verification) -> None:
        super().__init__(detail)
        self.result = result


@dataclass(frozen=True)
class Anchor:
    """Where this deployment keeps its signing key and its checkpoint log."""

    key_file: Path
    log: Path

    @classmethod
    def of(cls, settings: Settings) -> Anchor:
        key_file = settings.audit_key_file or settings.data_dir / "keys" / "audit-ed25519.key"
        return cls(key_file=key_file, log=(settings.audit_checkpoint_dir or settings.data_dir / "checkpoints") / LOG_NAME)


def _signed(key: SigningKey, record: dict[str, Any]) -> dict[str, Any]:
    """The signature covers the record's canonical JSON without `sig` (sorted keys, no spaces)."""
    return {**record, "sig": base64.b64encode(key.sign(canonical(record)).signature).decode()}


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
    the lock is let go; the record joins `log`, checked as a reader will check it."""
    problem = check_record(log, len(log.records) + 1, record)
    if problem:
        raise CheckpointLogError(f"Refused to append to {anchor.log} a record that would not verify: {problem}")
    new = not anchor.log.exists()
    with anchor.log.open("ab") as fh:
        fh.write(canonical(record) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    if new:
        _fsync_dir(anchor.log.parent)
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
    record = {
        "type": "key",
        "at": at.isoformat(),
        "key_id": key_id(public),
        "public_key": base64.b64encode(public).decode(),
        "replaces": replaces,
        "signed_by": key_id(bytes(signer.verify_key)),
        "prev": log.last_digest,
    }
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
            raise CheckpointLogError(
                f"The signing key {anchor.key_file} is gone, but the log {anchor.log} is signed by key "
                f"{log.key.key_id}: restore the key file (a new key must be signed by the old one)."
            )
        _write_key(anchor.key_file, SigningKey.generate())
    key = _read_key(anchor.key_file)
    if log.key is None:
        _append(anchor, log, _key_record(key, key, log=log, at=clock.now()))
    elif key_id(bytes(key.verify_key)) != log.key.key_id:
        raise CheckpointLogError(
            f"The key file {anchor.key_file} holds key {key_id(bytes(key.verify_key))}, but the log "
            f"{anchor.log} is signed by key {log.key.key_id}: this is not the deployment's key."
        )
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
            raise ChainDiverged(
                f"The audit chain does not verify at entry {result.first_broken}: {result.problem}. No checkpoint was signed.",
                result,
            )
        if latest is not None and (latest.seq, latest.head) == (seq, head_hash):
            return latest, False
        record = {
            "type": "checkpoint",
            "at": clock.now().isoformat(),
            "seq": seq,
            "head": head_hash,
            "key_id": key_id(bytes(key.verify_key)),
            "prev": log.last_digest,
        }
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
