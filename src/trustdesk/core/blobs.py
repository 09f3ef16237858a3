"""The blob store: files that rows refer to by content hash (disclosure packages, the
attachments of lawful requests), kept outside the database.

Why a port: a file written to the local disk is served only by the host that wrote it, and a
file written inside a transaction outlives its rollback. Content addressing answers both. A
blob's key is the SHA-256 of its bytes, so writing is idempotent: the caller puts the bytes
first and adds the row that names the key afterwards, in its transaction. A rollback then
leaves at most an unreferenced blob, harmless, that the next put of the same bytes reuses;
a committed row never names a blob that is missing. Every host that serves the rows must see
the same store: a shared directory for `LocalBlobStore`, or another adapter.

Not for secrets such as signing keys: a key is not content to be shared by its hash."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from pathlib import Path

from trustdesk.core.errors import NotFound

__all__ = ["BlobCorrupt", "BlobStore", "InMemoryBlobStore", "LocalBlobStore", "get_or_adopt", "key_of"]

KEY = re.compile(r"[0-9a-f]{64}")


class BlobCorrupt(ValueError):
    """The stored bytes no longer hash to their key: a disk fault or a hand edit."""


def key_of(data: bytes) -> str:
    """A blob's key: the SHA-256 of its bytes, in lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def _checked(key: str) -> str:
    """Only a well-formed key reaches a path (no '..', no separators)."""
    if not KEY.fullmatch(key):
        raise NotFound(f"No blob {key[:80]!r}: a key is 64 lowercase hex digits.")
    return key


class BlobStore(ABC):
    """Content-addressed bytes. `put` is idempotent and safe to call from several threads or
    hosts at once with the same bytes; `get` returns exactly what was put, or raises."""

    @abstractmethod
    def put(self, data: bytes) -> str:
        """Store `data` (durably, when this returns) and return its key."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under `key`; `NotFound` when there are none, `BlobCorrupt` when they no
        longer match it."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the bytes under `key` (retention, issue #21); nothing to remove is no error.
        Content-addressed bytes may be shared: the caller checks that no row still needs them."""


class InMemoryBlobStore(BlobStore):
    """For tests and throwaway instances: gone with the process, seen by it alone."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, data: bytes) -> str:
        key = key_of(data)
        with self._lock:
            self._blobs.setdefault(key, bytes(data))
        return key

    def get(self, key: str) -> bytes:
        with self._lock:
            data = self._blobs.get(_checked(key))
        if data is None:
            raise NotFound(f"No blob {key}.")
        return data

    def exists(self, key: str) -> bool:
        return KEY.fullmatch(key) is not None and key in self._blobs

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(_checked(key), None)


class LocalBlobStore(BlobStore):
    """A directory, fanned out as ab/cd/<key> so that no directory grows past a few thousand
    entries. Each blob is written to a temporary file beside its place, fsynced, and renamed
    into place (os.replace is atomic), so a reader never sees half a blob and two writers of
    the same bytes cannot spoil each other. Files and directories are owner-only: the blobs
    are the personal data of lawful requests."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path_of(self, key: str) -> Path:
        key = _checked(key)
        return self.directory / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = key_of(data)
        path = self.path_of(key)
        try:
            if path.stat().st_size == len(data):
                return key  # already there (a truncated file is written again)
        except FileNotFoundError:
            pass
        self._make_dirs(path.parent)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".part")  # mode 0o600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return key

    def get(self, key: str) -> bytes:
        try:
            data = self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No blob {key} in {self.directory}.") from None
        if key_of(data) != key:
            raise BlobCorrupt(f"The blob {key} in {self.directory} does not match its hash.")
        return data

    def exists(self, key: str) -> bool:
        return KEY.fullmatch(key) is not None and self.path_of(key).is_file()

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def _make_dirs(self, leaf: Path) -> None:
        for directory in (self.directory, leaf.parent, leaf):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    """The rename survives a crash only once the directory entry is on disk too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def get_or_adopt(store: BlobStore, key: str, legacy: Path) -> bytes:
    """The blob, or else the file an older version wrote at `legacy` for it: checked against
    the key and put into the store, so that the next read (on any host) finds it there."""
    try:
        return store.get(key)
    except NotFound:
        if not legacy.is_file():
            raise
    data = legacy.read_bytes()
    if key_of(data) != _checked(key):
        raise BlobCorrupt(f"The file {legacy} does not match its hash {key}.")
    store.put(data)
    return data
