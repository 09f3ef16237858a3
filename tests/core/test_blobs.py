"""The blob store's contract, inherited by each implementation, and what only the directory
adds: atomic owner-only files, and a second store on the same directory (a second host on
the shared volume) reading what the first wrote."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from trustdesk.core.blobs import BlobCorrupt, BlobStore, InMemoryBlobStore, LocalBlobStore, get_or_adopt, key_of
from trustdesk.core.errors import NotFound

DATA = b"%PDF-1.7 a signed order"


class BlobStoreContract:
    @pytest.fixture
    def store(self, tmp_path: Path) -> BlobStore:
        raise NotImplementedError

    def test_the_key_is_the_sha256_of_the_bytes(self, store: BlobStore) -> None:
        key = store.put(DATA)
        assert key == key_of(DATA) and len(key) == 64
        assert store.get(key) == DATA and store.exists(key)

    def test_putting_the_same_bytes_twice_is_a_no_op(self, store: BlobStore) -> None:
        assert store.put(DATA) == store.put(bytes(DATA))
        assert store.get(key_of(DATA)) == DATA

    def test_empty_bytes_are_a_blob_too(self, store: BlobStore) -> None:
        assert store.get(store.put(b"")) == b""

    def test_a_missing_key_is_not_found(self, store: BlobStore) -> None:
        key = key_of(b"never stored")
        assert not store.exists(key)
        with pytest.raises(NotFound):
            store.get(key)

    @pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "a" * 63, "A" * 64, ""])
    def test_a_malformed_key_names_no_blob(self, store: BlobStore, key: str) -> None:
        assert not store.exists(key)
        with pytest.raises(NotFound):
            store.get(key)

    def test_a_deleted_blob_is_gone_and_deleting_twice_is_no_error(self, store: BlobStore) -> None:
        key, other = store.put(b"package"), store.put(b"another")
        store.delete(key)
        store.delete(key)
        assert not store.exists(key) and store.exists(other)
        with pytest.raises(NotFound):
            store.get(key)
        with pytest.raises(NotFound):
            store.delete("../etc/passwd")

    def test_concurrent_puts_of_the_same_bytes_agree(self, store: BlobStore) -> None:
        data = DATA * 50_000
        keys: list[str] = []
        start = threading.Barrier(4)

        def put() -> None:
            start.wait()
            keys.append(store.put(data))

        threads = [threading.Thread(target=put) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert keys == [key_of(data)] * 4
        assert store.get(key_of(data)) == data

    def test_a_legacy_file_is_adopted_once_read(self, store: BlobStore, tmp_path: Path) -> None:
        legacy = tmp_path / "old" / key_of(DATA)
        legacy.parent.mkdir()
        legacy.write_bytes(DATA)
        assert get_or_adopt(store, key_of(DATA), legacy) == DATA
        assert store.get(key_of(DATA)) == DATA, "now in the store"
        with pytest.raises(NotFound):
            get_or_adopt(store, key_of(b"other"), tmp_path / "old" / "missing")
        legacy.write_bytes(b"edited")
        with pytest.raises(BlobCorrupt):
            get_or_adopt(InMemoryBlobStore(), key_of(DATA), legacy)


class TestInMemoryBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> BlobStore:
        return InMemoryBlobStore()


class TestLocalBlobStore(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> BlobStore:
        return LocalBlobStore(tmp_path / "blobs")

    def test_fanned_out_owner_only_and_no_temporary_file_left(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "blobs")
        key = store.put(DATA)
        path = tmp_path / "blobs" / key[:2] / key[2:4] / key
        assert store.path_of(key) == path and path.read_bytes() == DATA
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir()] == [key]

    def test_a_second_store_on_the_same_directory_reads_what_the_first_wrote(self, tmp_path: Path) -> None:
        key = LocalBlobStore(tmp_path / "shared").put(DATA)
        other_host = LocalBlobStore(tmp_path / "shared")
        assert other_host.exists(key) and other_host.get(key) == DATA
        assert other_host.put(DATA) == key

    def test_bytes_changed_on_disk_are_refused_and_a_truncated_file_rewritten(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "blobs")
        key = store.put(DATA)
        store.path_of(key).write_bytes(DATA[:5])
        with pytest.raises(BlobCorrupt, match="does not match"):
            store.get(key)
        store.put(DATA)
        assert store.get(key) == DATA

    def test_a_failed_write_leaves_nothing(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        store = LocalBlobStore(tmp_path / "blobs")

        def broken(fd: int) -> None:
            raise OSError("disk full")

        monkeypatch.setattr("trustdesk.core.blobs.os.fsync", broken)
        with pytest.raises(OSError, match="disk full"):
            store.put(DATA)
        assert not store.exists(key_of(DATA))
        assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []
