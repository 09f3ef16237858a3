"""Checks of an image file's bytes before any pixel is decoded: what would fail, or stall a
hashing worker, is refused with a reason a person can act on.

The decoder's own guards stay behind these (the pixel limit from the header, Pillow's
MAX_IMAGE_PIXELS, truncation errors: `hashing._open_image`); these catch what those do not
say clearly or do not catch at all:

- an empty file, and an image whose header declares zero width or height;
- a format Pillow cannot read (SVG, HEIC without a plugin, PDF sent as an image, ...): said
  as such, not as Pillow's "cannot identify image file <_io.BytesIO object at 0x...>";
- a progressive-JPEG scan bomb: each scan re-reads the whole image's coefficients, so a few
  kilobytes of a JPEG with thousands of scans keep a decoder busy for minutes (libjpeg-turbo
  warns of them and its tools have `-maxscans`; Pillow has no such limit). Real photos have
  one scan, or ten or so when progressive.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

MAX_JPEG_SCANS = 100  # start-of-scan markers a JPEG may have (an EXIF thumbnail adds one)
_SOS = b"\xff\xda"  # never inside entropy-coded data, where a 0xFF byte is always followed by 0x00
READABLE = "JPEG, PNG, GIF, WebP, TIFF, BMP and the other formats Pillow reads"
# Signatures of formats we read: such a file that Pillow cannot open is corrupt, not unsupported.
_READ_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")


class MediaProblem(ValueError):
    """Why an image cannot be hashed; `unsupported` when it is a format we do not read,
    `too_large` when it declares more pixels than are decoded."""

    def __init__(self, reason: str, *, unsupported: bool = False, too_large: bool = False) -> None:
        super().__init__(reason)
        self.unsupported, self.too_large = unsupported, too_large


def check_image_bytes(data: bytes | BinaryIO) -> None:
    """Raise MediaProblem when these bytes (or this binary file, read in chunks and left at
    its start), said to be an image, should not be decoded."""
    source: BinaryIO = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    source.seek(0)
    head = source.read(_HEAD)
    if not head:
        raise MediaProblem("the file is empty (0 bytes)")
    if head.startswith(b"\xff\xd8\xff"):
        scans = _count_scans(source, head)
        if scans > MAX_JPEG_SCANS:
            raise MediaProblem(
                f"the JPEG has {scans:,} scans; at most {MAX_JPEG_SCANS} are decoded "
                "(each scan decodes the whole image again: a file like this can keep a worker busy for minutes)"
            )
    source.seek(0)
    try:
        _check_header(source, head)
    finally:
        source.seek(0)


_HEAD = 64 * 1024  # the bytes read for the signature and the declared size
_CHUNK = 1024 * 1024


def _count_scans(source: BinaryIO, head: bytes) -> int:
    """Start-of-scan markers in the whole file, a chunk at a time (a marker split between two
    chunks is counted once: each chunk is searched with the last byte of the one before)."""
    count, tail, chunk = 0, b"", head
    while chunk:
        window = tail + chunk
        count += window.count(_SOS)
        tail = window[-1:]
        chunk = source.read(_CHUNK)
    return count


def _check_header(source: BinaryIO, data: bytes) -> None:
    declared = _declared_size(data)
    if declared is not None and 0 in declared:
        raise MediaProblem(f"the image is {declared[0]} x {declared[1]} pixels: it has no pixels to hash")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(source)  # the header only
    except UnidentifiedImageError:
        if data.startswith(_READ_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise MediaProblem("the image header is corrupt (the format is known, its header cannot be read)") from None
        raise MediaProblem(f"not an image format that can be hashed here ({READABLE})", unsupported=True) from None
    except Image.DecompressionBombError as error:
        # Pillow's own guard (over twice Image.MAX_IMAGE_PIXELS) refused it from the header
        size = f"{declared[0]:,} x {declared[1]:,} pixels" if declared else str(error)
        raise MediaProblem(f"the image is {size}, far more than is decoded for hashing", too_large=True) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise MediaProblem(f"the image header is corrupt ({error})") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise MediaProblem(f"the image is {width} x {height} pixels: it has no pixels to hash")


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's or GIF's header (where Pillow refuses a zero as a corrupt
    file rather than saying so)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    return None
