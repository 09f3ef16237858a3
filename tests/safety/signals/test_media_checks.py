"""Bad media: empty, zero-pixel, unsupported, corrupt, truncated, scan and pixel bombs are each
refused with a reason, before any pixel is decoded where that is possible."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from trustdesk.safety.signals.hashing import ImageTooLarge, UnreadableMedia, UnsupportedImage, hash_media
from trustdesk.safety.signals.media_checks import MAX_JPEG_SCANS


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_size(width: int, height: int) -> bytes:
    """A well-formed PNG header (CRCs right) declaring width x height, with no real pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")


def jpeg(progressive: bool = False) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", progressive=progressive)
    return out.getvalue()


def scan_bomb(scans: int) -> bytes:
    """A progressive JPEG whose last scan is repeated `scans` times: a few kilobytes, and each
    copy makes a decoder go over every coefficient of the image again."""
    data = jpeg(progressive=True)
    last = data.rindex(b"\xff\xda")
    return data[:last] + data[last:-2] * scans + b"\xff\xd9"


BAD = {
    "empty": (b"", "image/jpeg", UnreadableMedia, "empty"),
    "zero width": (png_of_size(0, 10), "image/png", UnreadableMedia, "0 x 10 pixels"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "image/svg+xml",
        UnsupportedImage,
        "not an image format",
    ),
    "pdf as image": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "image/jpeg", UnsupportedImage, "not an image format"),
    "corrupt png header": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None, UnreadableMedia, "header is corrupt"),
    "truncated png": (png_of_size(64, 64)[:-12], "image/png", UnreadableMedia, "cannot decode"),
    "scan bomb": (scan_bomb(MAX_JPEG_SCANS + 50), "image/jpeg", UnreadableMedia, "scans"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_images_are_refused_with_their_reason(name: str) -> None:
    data, content_type, error, reason = BAD[name]
    with pytest.raises(error, match=reason) as caught:
        hash_media(data, content_type=content_type)
    assert "BytesIO" not in str(caught.value)  # said for a person, not as Pillow's object repr


def test_an_unsupported_image_is_not_just_unreadable() -> None:
    with pytest.raises(UnsupportedImage):
        hash_media(BAD["svg"][0], content_type="image/svg+xml")
    with pytest.raises(UnreadableMedia) as caught:
        hash_media(BAD["truncated png"][0], content_type="image/png")
    assert not isinstance(caught.value, UnsupportedImage)


def test_a_progressive_jpeg_within_the_scan_limit_hashes() -> None:
    assert hash_media(jpeg(progressive=True)).pdq is not None
    assert hash_media(scan_bomb(MAX_JPEG_SCANS // 2)).pdq is not None  # the decoder takes repeated scans


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_pixel_bomb_is_refused_by_its_declared_size() -> None:
    with pytest.raises(ImageTooLarge, match="20,000 x 20,000"):
        hash_media(png_of_size(20_000, 20_000))


def test_bytes_that_are_not_an_image_get_file_hashes_only() -> None:
    hashes = hash_media(b"just some text")
    assert hashes.pdq is None and hashes.kind == "other"
