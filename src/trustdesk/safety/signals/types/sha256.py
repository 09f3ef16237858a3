"""SHA-256 of any file, matched exactly. python-threatexchange's `video_sha256` is the SHA-256
of the whole file, which is what this holds for every upload, so the exchanges' video
SHA-256 lists land here."""

from __future__ import annotations

from trustdesk.safety.signals.types.base import ExactHexHash


class Sha256Kind(ExactHexHash):
    name = "sha256"
    exchange_name = "video_sha256"
    algorithm = "sha256"
    hex_digits = 64
    media_field = "sha256"
