"""vPDQ, Meta's video hash (python-threatexchange's `vpdq`): one PDQ hash per second of video,
matched frame by frame with python-threatexchange's query-match and compared-match
percentages (signals/video.py). A bank entry keeps the signal string whole in
`signal_data` and its SHA-256 in `value`."""

from __future__ import annotations

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.signals import video
from trustdesk.safety.signals.hashing import InvalidHash
from trustdesk.safety.signals.types.base import IndexKind, SignalKind, shorten


class VpdqKind(SignalKind):
    name = "vpdq"
    exchange_name = "vpdq"
    index_kind = IndexKind.VPDQ
    default_threshold = video.DISTANCE_THRESHOLD  # per frame, as python-threatexchange
    media_field = "vpdq"
    media_kinds = frozenset({"video"})

    @classmethod
    def normalise(cls, value: str) -> str:
        try:
            return video.normalise(value)
        except InvalidHash as exc:
            raise InvalidInput(f"Not a vPDQ signal: {exc} ('{shorten(value)}').", field="value") from None

    @classmethod
    def stored_value(cls, normalised: str) -> str:
        return video.digest(normalised)

    @classmethod
    def hash_bytes(cls, data: bytes) -> str:
        """The vPDQ signal of a video file (raises UnreadableVideo, VpdqUnavailable)."""
        return video.format_features(video.hash_video(data))

    @classmethod
    def distance(cls, a: str, b: str) -> int | None:
        """The nearest frame distance where the videos match by python-threatexchange's
        percentages; None where they do not."""
        found = video.compare(video.parse(a), video.parse(b))
        return found.distance if found is not None and found.matches() else None
