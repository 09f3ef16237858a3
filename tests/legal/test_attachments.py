"""Attachments are typed by their bytes, limited in size, stored once by SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from trustdesk.core.blobs import InMemoryBlobStore, LocalBlobStore
from trustdesk.core.errors import InvalidInput, NotFound, TooLarge
from trustdesk.legal import attachments
from trustdesk.legal.attachments import Upload

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")],
)
def test_types_come_from_the_bytes(data: bytes, content_type: str) -> None:
    assert attachments.check(Upload("anything.bin", data)).content_type == content_type


def test_a_renamed_executable_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a PDF or an image"):
        attachments.check(Upload("order.pdf", b"MZ\x90\x00 this is a program"))


def test_oversized_and_empty_files_are_refused() -> None:
    with pytest.raises(TooLarge, match="limit is 10 MiB"):
        attachments.check(Upload("big.pdf", b"%PDF-" + b"0" * attachments.MAX_BYTES))
    with pytest.raises(InvalidInput, match="empty"):
        attachments.check(Upload("empty.pdf", b""))


def test_path_in_the_name_is_dropped() -> None:
    assert attachments.check(Upload("../../etc/passwd.pdf", PDF)).filename == "passwd.pdf"


def test_stored_once_by_hash_and_read_back_verified(tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    checked = attachments.check(Upload("order.pdf", PDF))
    key = attachments.store(blobs, checked)
    assert key == hashlib.sha256(PDF).hexdigest()
    assert attachments.store(blobs, attachments.check(Upload("copy.pdf", PDF))) == key
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == [key], "one blob for the same file twice"
    assert attachments.read(blobs, key, data_dir=tmp_path) == PDF
    blobs.path_of(key).write_bytes(PNG)
    with pytest.raises(ValueError, match="does not match"):
        attachments.read(blobs, key, data_dir=tmp_path)


def test_an_attachment_stored_before_the_blob_store_is_still_read(tmp_path) -> None:
    key = hashlib.sha256(PDF).hexdigest()
    old = attachments.legacy_path(tmp_path, key)
    old.parent.mkdir(parents=True)
    old.write_bytes(PDF)
    blobs = InMemoryBlobStore()
    assert attachments.read(blobs, key, data_dir=tmp_path) == PDF
    assert blobs.get(key) == PDF, "adopted into the store on first read"
    with pytest.raises(NotFound):
        attachments.read(blobs, hashlib.sha256(PNG).hexdigest(), data_dir=tmp_path)
