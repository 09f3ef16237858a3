"""Attachments: the signed order as PDF or a scan. The type is read from the first bytes,
never from the filename or the declared content type, and each file is stored once in the
blob store (core/blobs.py) under its SHA-256, before the row that names it is added."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from trustdesk.core.blobs import BlobStore, get_or_adopt
from trustdesk.core.errors import InvalidInput, TooLarge

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
# (magic prefix, offset, content type). WebP is RIFF....WEBP, checked separately.
SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
)


@dataclass(frozen=True)
class Upload:
    """A file as received, before it is checked."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes


def sniff(data: bytes) -> str | None:
    for magic, offset, content_type in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _safe_name(filename: str) -> str:
    name = os.path.basename(filename.replace("\\", "/")).strip() or "attachment"
    return "".join(c for c in name if c.isprintable())[:200]


def check(upload: Upload) -> CheckedFile:
    name = _safe_name(upload.filename)
    if not upload.data:
        raise InvalidInput(f"The attachment '{name}' is empty.", attachment=name)
    if len(upload.data) > MAX_BYTES:
        raise TooLarge(
            f"The attachment '{name}' is {len(upload.data) / 1048576:.1f} MiB; the limit is {MAX_BYTES // 1048576} MiB.",
            attachment=name,
        )
    content_type = sniff(upload.data)
    if content_type is None:
        raise InvalidInput(
            f"The attachment '{name}' is not a PDF or an image (PNG, JPEG, TIFF, WebP), whatever its name says.", attachment=name
        )
    return CheckedFile(name, content_type, len(upload.data), hashlib.sha256(upload.data).hexdigest(), upload.data)


def check_all(uploads: list[Upload]) -> list[CheckedFile]:
    """Every file checked before any is stored, so a bad one leaves nothing behind."""
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"At most {MAX_FILES} attachments per request.")
    return [check(u) for u in uploads if u.data or u.filename]


def legacy_path(data_dir: Path, sha256: str) -> Path:
    """Where versions before the blob store kept an attachment (read, and adopted, on demand)."""
    return data_dir / "legal" / "attachments" / sha256[:2] / sha256


def store(blobs: BlobStore, checked: CheckedFile) -> str:
    """Content-addressed: the same file sent twice is kept once; returns its SHA-256."""
    return blobs.put(checked.data)


def read(blobs: BlobStore, sha256: str, *, data_dir: Path) -> bytes:
    """The attachment's bytes, checked against its hash (`BlobCorrupt`, a ValueError, if not)."""
    return get_or_adopt(blobs, sha256, legacy_path(data_dir, sha256))
