"""MD5 of any file, matched exactly (python-threatexchange has no type for a plain MD5)."""

from __future__ import annotations

from trustdesk.safety.signals.types.base import ExactHexHash


class Md5Kind(ExactHexHash):
    name = "md5"
    exchange_name = None
    algorithm = "md5"
    hex_digits = 32
    media_field = "md5"
