"""Hashes of uploaded media: PDQ for images, MD5 and SHA-256 for exact matches of anything.

PDQ comes from Meta's C++ implementation (the `pdqhash` package), so our hashes agree
with those exchanged through ThreatExchange and NCMEC-style hash lists. Conventions follow
python-threatexchange's `pdq_hasher` (hex digit order, alpha dropped rather than blended)
for the same reason.

The fast path (the default) decodes only as much of an image as PDQ needs: PDQ boxes every
image down to a 64x64 buffer with a tent filter ceil(side / 64) pixels wide, so a JPEG is
decoded in its DCT domain at 1/2, 1/4 or 1/8 scale (any other format is box-reduced after
decoding), as far as a block stays within half of one of PDQ's box windows, and the 64x64
buffer of the full image is then computed from the block means (`pdqmath`: PDQ's own
filter as a matrix, summed over each block), not by hashing the small image as if it were
the photo. A 12-megapixel photo decodes at 500x375, a messenger's 1280x960 at 320x240;
the hash stays within a few bits of the full decode's (benchmarks/hash.py measures it).
Images under 385 pixels on their shorter side take the full path, bit for bit pdqhash's.

Files may be given as bytes or as a binary file (an upload spooled to disk): MD5 and SHA-256
are then read in chunks and the image is decoded from the file, so a large upload is never
held in memory twice.

Video gets vPDQ (signals/video.py) besides its file hashes where the `vpdq` package is
installed (it ships no wheel: the set-up builds it against Debian's FFmpeg libraries); without
it, video gets its file hashes only.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

import numpy as np
import pdqhash
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from trustdesk.safety.signals import pdqmath
from trustdesk.safety.signals.media_checks import MediaProblem, check_image_bytes

PDQ_MIN_QUALITY = 50  # below this the hash is noise-dominated: not used for matching
PDQ_HEX_DIGITS = 64
FAST_SCALES = (8, 4, 2)  # the JPEG DCT scalings (1/8, 1/4, 1/2), largest first
BLOCKS_PER_WINDOW = 2  # a block of the reduced image spans at most half of one PDQ box window
READ_CHUNK = 1024 * 1024  # bytes per read when a file is hashed from a stream
MAX_PIXELS = 50_000_000  # the default of the image_max_pixels setting

_HEX = frozenset("0123456789abcdefABCDEF")
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"FLV", b"\x00\x00\x01\xba", b"\x30\x26\xb2\x75")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# EXIF orientation -> (transpose, flip rows, flip columns) of a numpy (rows, columns) array:
# the same turns ImageOps.exif_transpose makes (tests/safety/signals/test_hashing.py checks).
_ORIENT = {
    1: (False, False, False),
    2: (False, False, True),
    3: (False, True, True),
    4: (False, True, False),
    5: (True, False, False),
    6: (True, False, True),
    7: (True, True, True),
    8: (True, True, False),
}

# The eight rotations and flips of an image, in the order pdqhash.compute_dihedral returns
# their hashes: each name is the Pillow transpose (Image.Transpose, rotations counter-
# clockwise) that, applied to the upload, gives the image that hash is of (checked against
# Meta's dihedral reference images in tests/safety/banks/test_orientations.py).
ORIENTATIONS = (
    "original",
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "flip_top_bottom",
    "flip_left_right",
    "transpose",
    "transverse",
)


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    OTHER = "other"


class InvalidHash(ValueError):
    """A hash string that is not what its signal type requires (length, alphabet)."""


class UnreadableMedia(ValueError):
    """Media that claims (by content type or header) to be an image but cannot be decoded."""


class UnsupportedImage(UnreadableMedia):
    """An image in a format that is not read here (SVG, HEIC without a plugin, ...)."""


class ImageTooLarge(UnreadableMedia):
    """An image whose header declares more pixels than we decode: a few hundred bytes of PNG
    can declare 13,000 x 13,000 pixels, 20 s of CPU and over a gigabyte to decode."""


@dataclass(frozen=True, slots=True)
class MediaHashes:
    kind: MediaKind
    md5: str
    sha256: str
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: str | None = None  # a video's vPDQ signal (python-threatexchange's JSON), where vpdq is installed
    # PDQ of the image in each of ORIENTATIONS (the first is `pdq`), when asked for
    pdq_dihedral: tuple[str, ...] | None = None

    @property
    def pdq_usable(self) -> bool:
        """Whether the PDQ hash is good enough to match on (quality >= 50)."""
        return self.pdq is not None and (self.pdq_quality or 0) >= PDQ_MIN_QUALITY


def parse_pdq_hex(text: str) -> bytes:
    """The 32 bytes of a 64-hex-digit PDQ hash; raises InvalidHash otherwise."""
    if not isinstance(text, str):
        raise InvalidHash(f"a PDQ hash is a string of {PDQ_HEX_DIGITS} hex digits, got {type(text).__name__}")
    text = text.strip()
    if len(text) != PDQ_HEX_DIGITS:
        raise InvalidHash(f"a PDQ hash has {PDQ_HEX_DIGITS} hex digits, got {len(text)}")
    if not _HEX.issuperset(text):
        raise InvalidHash("a PDQ hash has only the digits 0-9 and a-f")
    return bytes.fromhex(text)


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hex hashes."""
    return (int.from_bytes(parse_pdq_hex(a), "big") ^ int.from_bytes(parse_pdq_hex(b), "big")).bit_count()


def hash_media(
    data: bytes | BinaryIO,
    *,
    content_type: str | None = None,
    fast: bool = True,
    max_pixels: int = MAX_PIXELS,
    vpdq: bool = True,
    dihedral: bool = False,
) -> MediaHashes:
    """All hashes of one uploaded file, as bytes or a binary file read from its start; PDQ
    when it is an image (with `dihedral`, also the PDQ of its eight rotations and flips, from
    the same decode and the same DCT), vPDQ when it is a video (and `vpdq`, and the vpdq
    package is installed).

    The kind comes from the content type when given, else from the bytes. Raises
    ImageTooLarge for an image of more than `max_pixels` (known from its header, before
    anything is decoded) and UnreadableMedia for one that cannot be decoded (corrupt,
    truncated, unsupported; for a video `video.UnreadableVideo`, also for no frames).
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
        source: BinaryIO = io.BytesIO(data)  # shares the bytes, no copy
    else:
        md5, sha256 = _stream_digests(data)
        source = data
    kind = _kind_of(source, content_type)
    if kind is MediaKind.VIDEO and vpdq:
        from trustdesk.safety.signals import video  # it imports this module

        if video.available():
            source.seek(0)
            raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else source.read()
            return MediaHashes(kind, md5, sha256, vpdq=video.format_features(video.hash_video(raw)))
    if kind is not MediaKind.IMAGE:
        return MediaHashes(kind, md5, sha256)
    _check_bytes(source)
    img, full_size, scale = _open_image(source, fast=fast, max_pixels=max_pixels)
    hashes, quality = _pdq(img, full_size, scale, fast=fast, dihedral=dihedral)
    if dihedral:
        return MediaHashes(kind, md5, sha256, hashes[0], quality, pdq_dihedral=hashes)
    return MediaHashes(kind, md5, sha256, hashes[0], quality)


def pdq_from_image(img: Image.Image, *, fast: bool = False) -> tuple[str, int]:
    """(64-hex PDQ hash, quality 0-100) of a decoded image, EXIF orientation applied.

    Any Pillow mode is accepted. With `fast`, a large image is box-reduced first and hashed
    from its block means (see the module docstring).
    """
    hashes, quality = _pdq(img, img.size, 1, fast=fast)
    return hashes[0], quality


def pdq_dihedral_from_image(img: Image.Image, *, fast: bool = False) -> tuple[tuple[str, ...], int]:
    """`pdq_from_image` of the image in each of ORIENTATIONS (one decode, one DCT)."""
    return _pdq(img, img.size, 1, fast=fast, dihedral=True)


def fast_scale(width: int, height: int) -> int:
    """How far the fast path reduces a width x height image: the largest of 8, 4, 2 whose
    block spans at most 1/BLOCKS_PER_WINDOW of PDQ's box window along both axes, else 1."""
    window = min(pdqmath.jarosz_window(width), pdqmath.jarosz_window(height))
    return next((s for s in FAST_SCALES if s * BLOCKS_PER_WINDOW <= window), 1)


def _stream_digests(stream: BinaryIO) -> tuple[str, str]:
    """MD5 and SHA-256 of a file from its start, in chunks; leaves it at its start."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(READ_CHUNK):
        md5.update(chunk)
        sha256.update(chunk)
    stream.seek(0)
    return md5.hexdigest(), sha256.hexdigest()


def _pdq(
    img: Image.Image, full_size: tuple[int, int], scale: int, *, fast: bool, dihedral: bool = False
) -> tuple[tuple[str, ...], int]:
    """PDQ of `img`, which is the full_size (width, height) image decoded at 1/scale; with
    `dihedral`, of each of ORIENTATIONS (the first is the image as it is)."""
    try:
        target = fast_scale(*full_size) if fast else 1
        if max(scale, target) == 1:  # the full path: pdqhash itself
            pixels = _pdq_pixels(ImageOps.exif_transpose(img))
            if dihedral:
                turned, quality = pdqhash.compute_dihedral(pixels)
                return tuple(_bits_to_hex(b) for b in turned), int(quality)
            bits, quality = pdqhash.compute(pixels)
            return (_bits_to_hex(bits),), int(quality)
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)  # what exif_transpose reads
        img = _to_8bit(img)
        if target > scale:  # not a JPEG, or one its decoder would not scale that far
            img = img.reduce(target // scale)
            scale = target
        pixels = np.asarray(img)
    except (OSError, ValueError, SyntaxError) as error:
        raise UnreadableMedia(f"cannot decode image: {error}") from error
    transpose, flip_rows, flip_cols = _ORIENT.get(orientation, _ORIENT[1])
    luma = pdqmath.luma(pixels)
    width, height = full_size
    if transpose:
        luma, (width, height) = luma.T, (height, width)
    luma = luma[:: -1 if flip_rows else 1, :: -1 if flip_cols else 1]
    buf = pdqmath.buffer64(luma, (height, width), scale, reverse=(flip_rows, flip_cols))
    coefficients = pdqmath.dct16(buf)
    if dihedral:  # the other seven from the same DCT (the order of pdqhash.compute_dihedral)
        turned = pdqmath.dihedral(coefficients)
        return tuple(_bits_to_hex(turned[name]) for name in pdqmath.DIHEDRAL), pdqmath.quality(buf)
    return (_bits_to_hex(pdqmath.bits(coefficients)),), pdqmath.quality(buf)


def _check_bytes(data: bytes | BinaryIO) -> None:
    """`media_checks.check_image_bytes`, as this module's errors."""
    try:
        check_image_bytes(data)
    except MediaProblem as problem:
        kind = ImageTooLarge if problem.too_large else UnsupportedImage if problem.unsupported else UnreadableMedia
        raise kind(str(problem)) from None


def _kind_of(source: BinaryIO, content_type: str | None) -> MediaKind:
    major = (content_type or "").split("/", 1)[0].strip().lower()
    if major in ("image", "video"):
        return MediaKind(major)
    head = source.read(512)
    source.seek(0)
    if _looks_like_video(head):
        return MediaKind.VIDEO
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return MediaKind.IMAGE  # even when Pillow rejects the header: that is corruption
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.open(source)
    except UnidentifiedImageError:
        return MediaKind.OTHER
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        pass  # a recognised image header that fails later: _open_image says why
    finally:
        source.seek(0)
    return MediaKind.IMAGE


def _looks_like_video(data: bytes) -> bool:
    """Container signatures of common video formats (ISO BMFF, Matroska/WebM, AVI, ...)."""
    if data[4:8] == b"ftyp":
        return data[8:12] not in _IMAGE_BRANDS
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return True
    if len(data) > 188 and data[0] == 0x47 and data[188] == 0x47:
        return True  # MPEG transport stream
    return data.startswith(_VIDEO_MAGIC)


def _open_image(source: BinaryIO, *, fast: bool, max_pixels: int) -> tuple[Image.Image, tuple[int, int], int]:
    """(image, its full (width, height), the scale it was decoded at): open (the header
    only), check the size, then decode; on the fast path a JPEG decodes at 1/fast_scale in
    its DCT domain. Pillow's own bomb guard stays on behind ours (its error, past twice
    Image.MAX_IMAGE_PIXELS, is answered as ours)."""
    try:
        img = Image.open(source)
        width, height = img.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"the image is {width:,} x {height:,} pixels; the limit is {max_pixels:,} pixels")
        scale = fast_scale(width, height) if fast and img.format == "JPEG" else 1
        if scale > 1:
            # RGB, not the JPEG's own luma: that differs by up to 4 levels where colours
            # clip, and the reference hashes are computed from RGB.
            img.draft(img.mode, (width // scale, height // scale))
            scale = _decoded_scale((width, height), img.size)
        img.load()
    except ImageTooLarge:
        raise
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"image too large to decode safely: {error}") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UnreadableMedia(f"cannot decode image: {error}") from error
    return img, (width, height), scale


def _decoded_scale(full: tuple[int, int], decoded: tuple[int, int]) -> int:
    """The 1/s the decoder chose (libjpeg rounds a scaled side up)."""
    for s in (8, 4, 2, 1):
        if decoded == (-(-full[0] // s), -(-full[1] // s)):
            return s
    raise ValueError(f"the decoder scaled {full} to {decoded}, not by 1/2, 1/4 or 1/8")


def _pdq_pixels(img: Image.Image) -> np.ndarray:
    """An (h, w, 3) uint8 array for pdqhash (a zero-copy broadcast for grey images)."""
    pixels = np.asarray(_to_8bit(img))
    if pixels.ndim == 2:
        return np.broadcast_to(pixels[:, :, None], (*pixels.shape, 3))
    return pixels


def _to_8bit(img: Image.Image) -> Image.Image:
    """Greyscale stays 'L', everything else becomes 'RGB'; alpha is dropped, not blended.

    Pillow's own conversion of 16-bit and float images clips at 255 (a mostly white
    picture), so those are rescaled here.
    """
    if img.mode in ("L", "RGB"):
        return img
    if img.mode in _SIXTEEN_BIT or img.mode == "F":
        return _rescaled_grey(np.asarray(img, dtype=np.float64), img.mode)
    if img.mode in ("1", "LA", "La"):
        return img.convert("L")
    return img.convert("RGB")


def _rescaled_grey(values: np.ndarray, mode: str) -> Image.Image:
    if mode == "F":
        scale = 255.0 if values.size and np.nanmax(values) <= 1.0 else 1.0
    else:
        scale = 1 / 257 if mode != "I" or (values.size and values.max() > 255) else 1.0
    grey = np.clip(np.nan_to_num(values * scale), 0, 255).round().astype(np.uint8)
    return Image.fromarray(grey, "L")


def _bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256 bits, most significant first, as python-threatexchange writes them."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
