"""What a signal type is: python-threatexchange's `SignalType` (+ `FileHasher`) is the model.

Everything Trustdesk does differently per signal type lives on one class: how a value is
checked and written (`normalise`), how a file is hashed (`hash_bytes`), how two values
compare (`distance`), what the hash-list exchanges call it (`exchange_name`), which in-memory
structure matches it (`index_kind`) and which hash of an upload it is compared with
(`media_field`, `media_kinds`). The matcher, import/export, exchanges and bank validation ask
the class, so a new type is a new module, not a new branch in each of them.

Classes, not instances, as in python-threatexchange: a type has no state."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar

from trustdesk.core.errors import InvalidInput


class IndexKind(StrEnum):
    """The matcher's structures: the PDQ index (near matches within a threshold) or one
    exact dictionary per type."""

    PDQ_INDEX = "pdq-index"
    EXACT = "exact"
    VPDQ = "vpdq"  # frame-level video matching (signals/video.py's VideoIndex)


class SignalKind(ABC):
    """One signal type. `name` is the value stored in `safety_bank_entries.signal_type`:
    never change it for an existing type (the stored rows would stop matching)."""

    name: ClassVar[str]
    exchange_name: ClassVar[str | None]  # python-threatexchange's SignalType.get_name(), None if it has none
    index_kind: ClassVar[IndexKind]
    default_threshold: ClassVar[int]  # the largest distance that still matches, by default
    media_field: ClassVar[str]  # the field of an upload's hashes (MediaHashes, safety_media_hashes) it is compared with
    media_kinds: ClassVar[frozenset[str] | None] = None  # upload kinds it applies to; None: any file

    @classmethod
    @abstractmethod
    def normalise(cls, value: str) -> str:
        """The canonical form of `value` (what is stored and compared); InvalidInput, naming
        what is wrong, for anything else."""

    @classmethod
    @abstractmethod
    def hash_bytes(cls, data: bytes) -> str:
        """This type's value for a file's bytes, normalised."""

    @classmethod
    @abstractmethod
    def distance(cls, a: str, b: str) -> int | None:
        """How far apart two normalised values are; None where the type has no distance
        (exact hashes that differ)."""

    @classmethod
    def stored_value(cls, normalised: str) -> str:
        """What a bank entry's `value` column (64 characters) holds for a normalised value:
        the value itself, or for a type whose values are longer (vPDQ) a digest of it, the
        value then being kept whole in the entry's `signal_data`."""
        return normalised

    @classmethod
    def applies_to(cls, media_kind: str) -> bool:
        return cls.media_kinds is None or media_kind in cls.media_kinds


_HEX = re.compile(r"[0-9a-f]*")


class ExactHexHash(SignalKind):
    """A cryptographic hash of the whole file, as lowercase hex of a fixed length. Parsing is
    strict: a hash silently truncated or padded would match the wrong things."""

    index_kind = IndexKind.EXACT
    default_threshold = 0
    algorithm: ClassVar[str]  # a hashlib name
    hex_digits: ClassVar[int]

    @classmethod
    def normalise(cls, value: str) -> str:
        text = value.strip().lower()
        if not _HEX.fullmatch(text):
            raise InvalidInput(f"A {cls.name} hash is hexadecimal (0-9, a-f); '{shorten(value)}' is not.", field="value")
        if len(text) != cls.hex_digits:
            raise InvalidInput(
                f"A {cls.name} hash has {cls.hex_digits} hex digits ({cls.hex_digits * 4} bits); this one has {len(text)}.",
                field="value",
            )
        return text

    @classmethod
    def hash_bytes(cls, data: bytes) -> str:
        return hashlib.new(cls.algorithm, data).hexdigest()

    @classmethod
    def distance(cls, a: str, b: str) -> int | None:
        return 0 if a == b else None


def shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
