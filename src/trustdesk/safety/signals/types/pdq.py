"""PDQ, Meta's perceptual hash of images: 256 bits, matched within a Hamming distance."""

from __future__ import annotations

import io

from PIL import Image

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.signals.hashing import InvalidHash, parse_pdq_hex, pdq_distance, pdq_from_image
from trustdesk.safety.signals.types.base import IndexKind, SignalKind, shorten


class PdqKind(SignalKind):
    name = "pdq"
    exchange_name = "pdq"
    index_kind = IndexKind.PDQ_INDEX
    default_threshold = 31  # PDQ's standard
    media_field = "pdq"
    media_kinds = frozenset({"image"})

    @classmethod
    def normalise(cls, value: str) -> str:
        try:
            return parse_pdq_hex(value.strip().lower()).hex()
        except InvalidHash as exc:
            raise InvalidInput(f"Not a PDQ hash: {exc} ('{shorten(value)}').", field="value") from None

    @classmethod
    def hash_bytes(cls, data: bytes) -> str:
        """The PDQ of an image file (full path, as python-threatexchange hashes it); the
        upload pipeline uses `hashing.hash_media`, which also checks size and kind."""
        return pdq_from_image(Image.open(io.BytesIO(data)))[0]

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return pdq_distance(a, b)
