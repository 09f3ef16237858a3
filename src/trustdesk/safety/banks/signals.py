"""Signal values as banks store them: lowercase hex of a fixed length per type. Parsing is
strict, because a hash that is silently truncated or padded matches the wrong things."""

from __future__ import annotations

import re

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.banks.models import SignalType
from trustdesk.safety.signals.hashing import InvalidHash, parse_pdq_hex

HEX_LENGTH: dict[SignalType, int] = {
    SignalType.PDQ: 64,
    SignalType.MD5: 32,
    SignalType.SHA256: 64,
    SignalType.VIDEO_MD5: 32,
}
_HEX = re.compile(r"[0-9a-f]*")

# python-threatexchange's signal type names, mapped to ours. VideoSHA256 is the SHA-256 of the
# whole file, which is what our `sha256` holds for every upload.
FROM_THREATEXCHANGE: dict[str, SignalType] = {
    "pdq": SignalType.PDQ,
    "video_md5": SignalType.VIDEO_MD5,
    "video_sha256": SignalType.SHA256,
}
TO_THREATEXCHANGE: dict[SignalType, str] = {v: k for k, v in FROM_THREATEXCHANGE.items()}


def parse_signal_type(name: str) -> SignalType:
    try:
        return SignalType(name.strip().lower())
    except ValueError:
        valid = ", ".join(SignalType)
        raise InvalidInput(f"Unknown signal type '{name}'. Valid: {valid}.", field="signal_type") from None


def normalise(signal_type: SignalType, value: str) -> str:
    """The canonical form of `value`, or a clear error naming what is wrong with it."""
    text = value.strip().lower()
    if signal_type is SignalType.PDQ:
        try:
            return parse_pdq_hex(text).hex()
        except InvalidHash as exc:
            raise InvalidInput(f"Not a PDQ hash: {exc} ('{_shorten(value)}').", field="value") from None
    want = HEX_LENGTH[signal_type]
    if not _HEX.fullmatch(text):
        raise InvalidInput(f"A {signal_type} hash is hexadecimal (0-9, a-f); '{_shorten(value)}' is not.", field="value")
    if len(text) != want:
        raise InvalidInput(
            f"A {signal_type} hash has {want} hex digits ({want * 4} bits); this one has {len(text)}.", field="value"
        )
    return text


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
