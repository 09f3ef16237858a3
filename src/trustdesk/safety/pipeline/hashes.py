"""The hash-match signal as the pipeline sees it: a narrow `HashMatcher` port. Banks (the
`safety.banks` domain) plug in by implementing it; `InMemoryHashMatcher` serves tests, the
benchmark and small deployments, on the signals domain's exact `PDQIndex`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from trustdesk.safety.signals.index import PDQIndex


class HashMatch(NamedTuple):
    bank: str
    entry_id: str
    distance: int  # 0 for an exact digest match


class HashMatcher(Protocol):
    def match_pdq(self, pdq_hex: str, *, max_distance: int) -> list[HashMatch]:
        """Every bank entry within `max_distance` bits of the PDQ hash."""
        ...

    def match_exact(self, digest_hex: str) -> list[HashMatch]:
        """Every bank entry whose MD5 or SHA-256 equals the digest."""
        ...

    def match_pdq_many(self, pdq_hexes: list[str], *, max_distance: int) -> list[list[HashMatch]]:
        """`match_pdq` for many hashes at once (a batch's media), in order."""
        ...


@runtime_checkable
class SessionHashMatcher(Protocol):
    """A matcher that must see the batch's transaction (the banks confirm every candidate in
    the database): the handler binds it once per batch, handing it the batch's media."""

    def bound(self, session: Any, *, clock: Any, media: Sequence[tuple[str, Any]]) -> HashMatcher: ...


class NoHashMatcher:
    """For deployments without banks: nothing matches."""

    def match_pdq_many(self, pdq_hexes: list[str], *, max_distance: int) -> list[list[HashMatch]]:
        return [[] for _ in pdq_hexes]

    def match_pdq(self, pdq_hex: str, *, max_distance: int) -> list[HashMatch]:
        return []

    def match_exact(self, digest_hex: str) -> list[HashMatch]:
        return []


BULK = 1000  # adds of at least this many hashes are a load, compacted at once


class InMemoryHashMatcher:
    """Banks held in memory: one PDQ index over every bank's hashes, and a digest dict."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, str]] = []  # row id -> (bank, entry id)
        self._index: PDQIndex | None = None
        self._exact: dict[str, list[HashMatch]] = {}

    def add_pdq(self, bank: str, entries: Iterable[tuple[str, str]]) -> None:
        """`entries`: (entry id, 64-hex PDQ)."""
        rows, ids = [], []
        for entry_id, pdq in entries:
            ids.append(len(self._entries))
            self._entries.append((bank, entry_id))
            rows.append(bytes.fromhex(pdq))
        if not rows:
            return
        hashes = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 32)
        if self._index is None:
            self._index = PDQIndex.build(hashes, ids)
            return
        self._index.add(hashes, ids)
        if len(rows) >= BULK:
            self.compact()

    def compact(self) -> None:
        """Merge every added hash into one indexed segment. Added hashes wait in the index's
        tail, which each query scans linearly: after a bulk load (a second bank of 10,000
        hashes, say) that scan costs more than the indexed search of everything else."""
        if self._index is not None:
            self._index.compact()

    def add_exact(self, bank: str, entries: Iterable[tuple[str, str]]) -> None:
        for entry_id, digest in entries:
            self._exact.setdefault(digest.lower(), []).append(HashMatch(bank, entry_id, 0))

    def match_pdq(self, pdq_hex: str, *, max_distance: int) -> list[HashMatch]:
        if self._index is None:
            return []
        found = self._index.query(bytes.fromhex(pdq_hex), threshold=max_distance)
        return [HashMatch(*self._entries[m.id], int(m.distance)) for m in found]

    def match_exact(self, digest_hex: str) -> list[HashMatch]:
        return list(self._exact.get(digest_hex.lower(), ()))

    def match_pdq_many(self, pdq_hexes: list[str], *, max_distance: int) -> list[list[HashMatch]]:
        """One vectorised index search for the whole batch."""
        if self._index is None or not pdq_hexes:
            return [[] for _ in pdq_hexes]
        rows = np.frombuffer(b"".join(bytes.fromhex(h) for h in pdq_hexes), dtype=np.uint8).reshape(len(pdq_hexes), 32)
        found = self._index.query_batch(rows, threshold=max_distance)
        return [[HashMatch(*self._entries[m.id], int(m.distance)) for m in matches] for matches in found]
