"""MD5 of a whole video file (python-threatexchange's `video_md5`): the same digest as `md5`,
but it matches video uploads only."""

from __future__ import annotations

from trustdesk.safety.signals.types.base import ExactHexHash


class VideoMd5Kind(ExactHexHash):
    name = "video_md5"
    exchange_name = "video_md5"
    algorithm = "md5"
    hex_digits = 32
    media_field = "md5"
    media_kinds = frozenset({"video"})
