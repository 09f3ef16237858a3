"""The banks domain behind the pipeline's `HashMatcher` port.

The banks' `MatchService` confirms every index candidate in the database (entry and bank
enabled, the bank's own threshold, negative banks, rollout), so it needs the batch's
session: `BankHashMatcher.bound(session, ...)` gives the matcher one batch uses. Binding also
remembers each media item's hashes in the banks' `media_hashes` table (as `check_upload`
does after hashing), so that an entry added to a bank later finds this media by
retroaction, and records each confirmed match there, with the flood guard's count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.safety.banks import flood
from trustdesk.safety.banks.lookup import record_matches, remember
from trustdesk.safety.banks.matcher import MatchQuery, MatchService
from trustdesk.safety.banks.models import MatchSource
from trustdesk.safety.pipeline.events import MediaRef
from trustdesk.safety.pipeline.hashes import HashMatch
from trustdesk.safety.signals.hashing import MediaHashes, MediaKind

ACTOR = Actor("system", "pipeline")


class BankHashMatcher:
    """Unbound: only `bound` is of use; the pipeline's handler calls it once per batch."""

    def __init__(self, service: MatchService, *, pager: Any = None, base_url: str = "") -> None:
        self.service, self.pager, self.base_url = service, pager, base_url  # base_url: the console's, for page links

    def bound(self, session: Session, *, clock: Clock, media: Sequence[tuple[str, MediaRef]]) -> _BoundMatcher:
        """The matcher for one batch; `media`: (platform, item) for every media item in it."""
        bound = _BoundMatcher(self.service, session, self.base_url)
        for platform, item in media:
            bound.observe(item, clock=clock, platform=platform, pager=self.pager)
        return bound


class _BoundMatcher:
    def __init__(self, service: MatchService, session: Session, base_url: str = "") -> None:
        self.service, self.session, self.base_url = service, session, base_url
        self._pdq: dict[str, list[HashMatch]] = {}
        self._exact: dict[str, list[HashMatch]] = {}

    def observe(self, item: MediaRef, *, clock: Clock, platform: str, pager: Any) -> None:
        """Remember the item's hashes and match it once; later questions are answered from
        what this found. Items without MD5 and SHA-256 are matched but not remembered (the
        banks' table keys media by its file digests)."""
        query = MatchQuery(md5=_lower(item.md5), sha256=_lower(item.sha256), pdq=_lower(item.pdq))
        result = self.service.match(self.session, query)
        found = [HashMatch(m.bank, str(m.entry_id), m.distance) for m in result.matches]
        if item.pdq:
            self._pdq.setdefault(item.pdq.lower(), found)
        for digest in (item.md5, item.sha256):
            if digest:
                self._exact.setdefault(digest.lower(), [m for m in found if m.distance == 0])
        if item.md5 and item.sha256:
            hashes = MediaHashes(
                kind=_kind(item.content_type), md5=item.md5.lower(), sha256=item.sha256.lower(), pdq=_lower(item.pdq)
            )
            stored = remember(self.session, clock=clock, platform_name=platform, media_id=item.media_id, hashes=hashes)
            new = record_matches(self.session, clock=clock, media=stored, result=result, source=MatchSource.LOOKUP)
            flood.count_hits(
                self.session, actor=ACTOR, clock=clock, entry_ids=[m.entry_id for m in new], pager=pager, base_url=self.base_url
            )

    def match_pdq(self, pdq_hex: str, *, max_distance: int) -> list[HashMatch]:
        known = self._pdq.get(pdq_hex.lower())
        if known is None:
            result = self.service.match(self.session, MatchQuery(pdq=pdq_hex.lower()))
            known = self._pdq[pdq_hex.lower()] = [HashMatch(m.bank, str(m.entry_id), m.distance) for m in result.matches]
        return [m for m in known if m.distance <= max_distance]

    def match_pdq_many(self, pdq_hexes: list[str], *, max_distance: int) -> list[list[HashMatch]]:
        return [self.match_pdq(h, max_distance=max_distance) for h in pdq_hexes]

    def match_exact(self, digest_hex: str) -> list[HashMatch]:
        known = self._exact.get(digest_hex.lower())
        if known is None:
            digest = digest_hex.lower()
            query = MatchQuery(md5=digest) if len(digest) == 32 else MatchQuery(sha256=digest)
            known = self._exact[digest] = [
                HashMatch(m.bank, str(m.entry_id), 0) for m in self.service.match(self.session, query).matches
            ]
        return list(known)


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _kind(content_type: str | None) -> MediaKind:
    if content_type and content_type.startswith("video/"):
        return MediaKind.VIDEO
    return MediaKind.IMAGE if content_type is None or content_type.startswith("image/") else MediaKind.OTHER
