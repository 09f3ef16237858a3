"""Attachments are typed by their bytes, limited in size, stored once by SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from trustdesk.core.errors import InvalidInput, TooLarge
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
    checked = attachments.check(Upload("order.pdf", PDF))
    path = attachments.store(tmp_path, checked)
    assert path.name == hashlib.sha256(PDF).hexdigest()
    assert attachments.store(tmp_path, attachments.check(Upload("copy.pdf", PDF))) == path
    assert attachments.read(tmp_path, checked.sha256) == PDF
    path.write_bytes(PNG)
    with pytest.raises(ValueError, match="does not match"):
        attachments.read(tmp_path, checked.sha256)
