"""Hashes of uploaded media: PDQ for images, MD5 and SHA-256 for exact matches of anything.

PDQ comes from Meta's C++ implementation (the `pdqhash` package), so our hashes agree
with those exchanged through ThreatExchange and NCMEC-style hash lists. Conventions follow
python-threatexchange's `pdq_hasher` (hex digit order, alpha dropped rather than blended)
for the same reason.

The fast path (the default) hashes a large image at 512 to 1024 pixels instead of its full
size: PDQ itself boxes every image down to 64x64 before its DCT, so the intermediate
changes at most a few bits (benchmarks/hash.py measures it), while JPEGs are decoded in
the DCT domain at 1/2, 1/4 or 1/8 scale. Images under 1024 pixels take the full path.

Video gets its file hashes only; vPDQ is not included (the `vpdq` package ships no wheel
and needs FFmpeg's libraries to build).
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pdqhash
from PIL import Image, ImageOps, UnidentifiedImageError

from trustdesk.safety.signals.media_checks import MediaProblem, check_image_bytes

PDQ_MIN_QUALITY = 50  # below this the hash is noise-dominated: not used for matching
PDQ_HEX_DIGITS = 64
FAST_SIDE = 512  # shorter side the fast path hashes at
MAX_PIXELS = 50_000_000  # the default of the image_max_pixels setting

_HEX = frozenset("0123456789abcdefABCDEF")
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"FLV", b"\x00\x00\x01\xba", b"\x30\x26\xb2\x75")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_IMAGE_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
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
    data: bytes, *, content_type: str | None = None, fast: bool = True, max_pixels: int = MAX_PIXELS, dihedral: bool = False
) -> MediaHashes:
    """All hashes of one uploaded file; PDQ when it is an image (with `dihedral`, also the
    PDQ of its eight rotations and flips, from the same decode: the same time as one hash).

    The kind comes from the content type when given, else from the bytes. Raises
    ImageTooLarge for an image of more than `max_pixels` (known from its header, before
    anything is decoded) and UnreadableMedia for one that cannot be decoded (corrupt,
    truncated, unsupported).
    """
    md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    kind = _kind_of(data, content_type)
    if kind is not MediaKind.IMAGE:
        return MediaHashes(kind, md5, sha256)
    _check_bytes(data)
    img = _open_image(data, fast=fast, max_pixels=max_pixels)
    if dihedral:
        hashes, quality = pdq_dihedral_from_image(img, fast=fast)
        return MediaHashes(kind, md5, sha256, hashes[0], quality, hashes)
    pdq, quality = pdq_from_image(img, fast=fast)
    return MediaHashes(kind, md5, sha256, pdq, quality)


def pdq_from_image(img: Image.Image, *, fast: bool = False) -> tuple[str, int]:
    """(64-hex PDQ hash, quality 0-100) of a decoded image, EXIF orientation applied.

    Any Pillow mode is accepted. With `fast`, images larger than ~2x FAST_SIDE are
    box-reduced first (the hash barely moves; see the module docstring).
    """
    try:
        img = ImageOps.exif_transpose(img)
        pixels = _pdq_pixels(img, fast=fast)
    except (OSError, ValueError, SyntaxError) as error:
        raise UnreadableMedia(f"cannot decode image: {error}") from error
    bits, quality = pdqhash.compute(pixels)
    return _bits_to_hex(bits), int(quality)


def pdq_dihedral_from_image(img: Image.Image, *, fast: bool = False) -> tuple[tuple[str, ...], int]:
    """`pdq_from_image` of the image in each of ORIENTATIONS (one decode and one resize)."""
    try:
        img = ImageOps.exif_transpose(img)
        pixels = _pdq_pixels(img, fast=fast)
    except (OSError, ValueError, SyntaxError) as error:
        raise UnreadableMedia(f"cannot decode image: {error}") from error
    hashes, quality = pdqhash.compute_dihedral(pixels)
    return tuple(_bits_to_hex(bits) for bits in hashes), int(quality)


def _check_bytes(data: bytes) -> None:
    """`media_checks.check_image_bytes`, as this module's errors."""
    try:
        check_image_bytes(data)
    except MediaProblem as problem:
        kind = ImageTooLarge if problem.too_large else UnsupportedImage if problem.unsupported else UnreadableMedia
        raise kind(str(problem)) from None


def _kind_of(data: bytes, content_type: str | None) -> MediaKind:
    major = (content_type or "").split("/", 1)[0].strip().lower()
    if major in ("image", "video"):
        return MediaKind(major)
    if _looks_like_video(data):
        return MediaKind.VIDEO
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return MediaKind.IMAGE  # even when Pillow rejects the header: that is corruption
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        return MediaKind.OTHER
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        pass  # a recognised image header that fails later: _open_image says why
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


def _open_image(data: bytes, *, fast: bool, max_pixels: int) -> Image.Image:
    """Open (the header only), check the size, then decode; on the fast path a JPEG decodes
    at reduced scale. Pillow's own bomb guard stays on behind ours (its error, past twice
    Image.MAX_IMAGE_PIXELS, is answered as ours)."""
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"the image is {width:,} x {height:,} pixels; the limit is {max_pixels:,} pixels")
        if fast and img.format == "JPEG" and min(img.size) >= 2 * FAST_SIDE:
            # RGB, not the JPEG's own luma: that differs by up to 4 levels where colours
            # clip, and the reference hashes are computed from RGB.
            img.draft(img.mode, (FAST_SIDE, FAST_SIDE))
        img.load()
    except ImageTooLarge:
        raise
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"image too large to decode safely: {error}") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UnreadableMedia(f"cannot decode image: {error}") from error
    return img


def _pdq_pixels(img: Image.Image, *, fast: bool) -> np.ndarray:
    """An (h, w, 3) uint8 array for pdqhash (a zero-copy broadcast for grey images)."""
    img = _to_8bit(img)
    if fast and min(img.size) >= 2 * FAST_SIDE:
        img = img.reduce(min(img.size) // FAST_SIDE)
    pixels = np.asarray(img)
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
