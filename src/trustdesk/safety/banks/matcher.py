"""The in-process matcher: one `PDQIndex` and one dictionary per exact signal type (the
registry's types of index kind `exact`) per process, built from the database once and then
kept current from the entry change log.

HMA reloads and rebuilds its whole index every ~30 s; here an added or disabled entry takes
effect at the next `refresh` (at most `refresh_seconds` after it commits), in time
proportional to the change, not to the bank. What the index returns is only a candidate:
every match is confirmed against the entry and bank rows in the caller's transaction
(enabled, bank enabled, distance within the bank's own threshold, rollout, negative banks),
so a stale or rolled-back change in memory can never produce a wrong match.

Memory is bounded by `max_entries` (loading more is refused with a clear error) and stated
by `stats()`: the index's own figure (see benchmarks/match.py, under 100 bytes per PDQ hash
at 10M) plus about `EXACT_BYTES_PER_ENTRY` per MD5/SHA-256 entry in the dictionaries."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.errors import Unavailable
from trustdesk.safety.banks.models import Bank, BankEntry, BankEntryChange, BankKind
from trustdesk.safety.signals import video
from trustdesk.safety.signals.hashing import ORIENTATIONS
from trustdesk.safety.signals.index import PDQIndex
from trustdesk.safety.signals.types.base import IndexKind, SignalKind
from trustdesk.safety.signals.types.registry import active

if TYPE_CHECKING:
    from trustdesk.http.container import Container

log = logging.getLogger("trustdesk.banks")

MIN_PDQ_QUALITY = 50  # PDQ's own advice: hashes of lower quality are too flat to match on
CHANGE_WINDOW = 500  # change rows re-read each refresh, for transactions that commit late
MAX_MATCHES = 1000  # matches (and suppressed matches) one answer lists; the rest are counted in `omitted`
_CONFIRM_CHUNK = 5000  # candidate ids per confirming query (SQLite's bound-parameter limit is 32,766)
EXACT_BYTES_PER_ENTRY = 140  # dict slot + bytes key + int value, measured on CPython 3.11
_LOAD_BATCH = 50_000


@dataclass(frozen=True)
class MatchQuery:
    """What to match. `content_key` drives the rollout coin flip: the file's SHA-256 when
    there is a file, else the hash value itself, so the same content always gets the same
    answer from a partly rolled-out bank."""

    md5: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: str | None = None  # a video's vPDQ signal: matched frame by frame (signals/video.py)
    video: bool = False
    # PDQ of the upload in each of hashing.ORIENTATIONS (the first is `pdq`): banks with
    # `all_orientations` match any of them
    pdq_dihedral: tuple[str, ...] | None = None

    @property
    def content_key(self) -> str:
        return self.sha256 or self.md5 or self.pdq or ""

    @property
    def pdq_usable(self) -> bool:
        return self.pdq is not None and (self.pdq_quality is None or self.pdq_quality >= MIN_PDQ_QUALITY)

    def exact_value(self, kind: type[SignalKind]) -> str | None:
        """What an exact type's entries are compared with: the upload's hash it names, if
        the type applies to this kind of upload."""
        return getattr(self, kind.media_field) if kind.applies_to("video" if self.video else "") else None


@dataclass(frozen=True)
class BankMatch:
    bank_id: int
    bank: str
    bank_kind: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    policy: str | None
    dsa_category: str | None
    labels: tuple[str, ...]
    action_paused: bool
    exchange: str | None = None
    # vPDQ only: python-threatexchange's per-video percentages (distance: the nearest frame pair)
    query_match_percent: float | None = None
    compared_match_percent: float | None = None
    orientation: str = ORIENTATIONS[0]  # which rotation or flip of the upload matched


# A candidate: per entry id, the (distance, orientation index) of each orientation of the
# upload that is within the widest threshold, nearest first.
Candidates = dict[int, list[tuple[int, int]]]


@dataclass(frozen=True)
class MatchResult:
    """`matches` are what the caller acts on. `suppressed` were positive matches cancelled by
    a negative bank (listed in `negatives`); `held_back` counts those outside a rollout."""

    matches: list[BankMatch] = field(default_factory=list)
    negatives: list[BankMatch] = field(default_factory=list)
    suppressed: list[BankMatch] = field(default_factory=list)
    held_back: int = 0
    pdq_used: bool = False
    omitted: int = 0  # matches (or suppressed matches) past MAX_MATCHES, nearest kept

    @property
    def capped(self) -> bool:
        return self.omitted > 0


@dataclass(frozen=True)
class MatcherStats:
    pdq_entries: int
    exact_entries: int
    index_bytes: int
    exact_bytes: int
    bytes_per_pdq_hash: float
    last_change_id: int
    max_entries: int
    refused_entries: int

    @property
    def total_bytes(self) -> int:
        return self.index_bytes + self.exact_bytes


def in_rollout(*, bank_name: str, content_key: str, percent: int) -> bool:
    """HMA-style coin flip: a hash of (bank, content) decides, so it is deterministic per
    content and independent between banks."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{bank_name}\x00{content_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


class MatchService:
    def __init__(
        self, *, max_entries: int = 10_000_000, refresh_seconds: float = 2.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries, self.refresh_seconds, self._monotonic = max_entries, refresh_seconds, monotonic
        self._lock = threading.Lock()
        self._index = PDQIndex()
        self._video = video.VideoIndex()
        self._exact_kinds = active().by_index(IndexKind.EXACT)
        self._index_kinds = {k.name: k.index_kind for k in active()}  # entries of types not in use are not held
        self._exact: dict[str, dict[bytes, tuple[int, ...]]] = {k.name: {} for k in self._exact_kinds}
        self._pdq_count = 0
        self._last_change = 0
        self._applied: set[int] = set()
        self._refreshed_at: float | None = None
        self._max_threshold = 31
        self.refused = 0

    # -- loading and following changes -------------------------------------------------------

    def load(self, session: Session) -> None:
        """Build everything from the entries table (enabled and disabled entries alike, so a
        later enable needs no database read of the hash)."""
        total = session.scalar(select(func.count()).select_from(BankEntry)) or 0
        if total > self.max_entries:
            raise Unavailable(
                f"The banks hold {total} entries, more than this process may keep in memory "
                f"({self.max_entries}); raise TRUSTDESK_MATCH_MAX_ENTRIES or disable banks."
            )
        with self._lock:
            visible = set(session.scalars(select(BankEntryChange.id)))
            hashes, ids, disabled = self._load_entries(session)
            self._index = PDQIndex.build(np.array(hashes, dtype=np.uint8).reshape(-1, 32), ids)
            self._index.disable(disabled)
            self._pdq_count = len(ids)
            self._last_change = max(visible, default=0)
            self._applied = {c for c in visible if c > self._last_change - CHANGE_WINDOW}
            self._read_banks(session)
            self._refreshed_at = self._monotonic()

    def _load_entries(self, session: Session) -> tuple[list[np.ndarray], list[int], list[int]]:
        for exact in self._exact.values():
            exact.clear()
        videos: list[tuple[int, list[video.Feature], bool]] = []
        hashes: list[np.ndarray] = []
        ids: list[int] = []
        disabled: list[int] = []
        query = select(BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.enabled, BankEntry.signal_data)
        for entry_id, signal_type, value, enabled, data in session.execute(
            query.order_by(BankEntry.id).execution_options(yield_per=_LOAD_BATCH)
        ):
            index_kind = self._index_kinds.get(signal_type)
            if index_kind is IndexKind.VPDQ:
                videos.extend((entry_id, features, enabled) for features in _features(entry_id, data))
            elif index_kind is IndexKind.PDQ_INDEX:
                hashes.append(np.frombuffer(bytes.fromhex(value), np.uint8))
                ids.append(entry_id)
                if not enabled:
                    disabled.append(entry_id)
            elif index_kind is IndexKind.EXACT and enabled:
                self._exact_add(signal_type, value, entry_id)
        self._video = video.VideoIndex.build(videos)
        return hashes, ids, disabled

    def _read_banks(self, session: Session) -> None:
        self._max_threshold = session.scalar(select(func.max(Bank.threshold)).where(Bank.enabled.is_(True))) or 31

    def refresh(self, session: Session, *, force: bool = False) -> int:
        """Apply entry changes committed since the last refresh; returns how many applied."""
        # The database's lock before the matcher's, always in that order: a request whose
        # session is still unused (an upload, hashed before its transaction began) would
        # otherwise hold this lock while it waits for SQLite's (every transaction takes the
        # write lock), and a request holding SQLite's would wait here: deadlocked until the
        # busy timeout.
        session.connection()
        now = self._monotonic()
        if self._refreshed_at is None:
            self.load(session)
            return 0
        if not force and now - self._refreshed_at < self.refresh_seconds:
            return 0
        with self._lock:
            floor = max(0, self._last_change - CHANGE_WINDOW)
            query = select(BankEntryChange.id, BankEntryChange.kind, BankEntryChange.entry_ids).where(BankEntryChange.id > floor)
            fresh = [row for row in session.execute(query.order_by(BankEntryChange.id)) if row[0] not in self._applied]
            self._apply_created(session, [cid for cid, kind, _ in fresh if kind == "created"])
            self._apply_states(session, {i for _, kind, ids in fresh if kind == "state" for i in ids})
            self._applied.update(cid for cid, _, _ in fresh)
            self._last_change = max([self._last_change, *(cid for cid, _, _ in fresh)])
            self._applied = {c for c in self._applied if c > self._last_change - CHANGE_WINDOW}
            self._read_banks(session)
            self._refreshed_at = now
        return len(fresh)

    def _apply_created(self, session: Session, change_ids: list[int]) -> None:
        if not change_ids:
            return
        query = select(BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.enabled, BankEntry.signal_data).where(
            BankEntry.change_id.in_(change_ids)
        )
        found = session.execute(query).all()
        rows = [(i, t, v, e) for i, t, v, e, _ in found]
        if self._size() + len(rows) > self.max_entries:
            self.refused += len(rows)
            log.error("matcher full: refused %d new entries (max_entries=%d)", len(rows), self.max_entries)
            return
        pdq = [(i, v, e) for i, t, v, e in rows if self._index_kinds.get(t) is IndexKind.PDQ_INDEX]
        if pdq:
            self._index.add(
                np.frombuffer(b"".join(bytes.fromhex(v) for _, v, _ in pdq), np.uint8).reshape(-1, 32), [i for i, _, _ in pdq]
            )
            self._index.disable([i for i, _, e in pdq if not e])
            self._pdq_count += len(pdq)
        for entry_id, signal_type, value, enabled, data in found:
            if self._index_kinds.get(signal_type) is IndexKind.EXACT and enabled:
                self._exact_add(signal_type, value, entry_id)
            elif self._index_kinds.get(signal_type) is IndexKind.VPDQ:
                self._video_add(entry_id, data, enabled)

    def _apply_states(self, session: Session, entry_ids: set[int]) -> None:
        if not entry_ids:
            return
        query = select(BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.enabled).where(
            BankEntry.id.in_(sorted(entry_ids))
        )
        for entry_id, signal_type, value, enabled in session.execute(query):
            index_kind = self._index_kinds.get(signal_type)
            if index_kind is IndexKind.PDQ_INDEX:
                (self._index.enable if enabled else self._index.disable)([entry_id])
            elif index_kind is IndexKind.VPDQ:
                (self._video.enable if enabled else self._video.disable)(entry_id)
            elif index_kind is not IndexKind.EXACT:
                continue
            elif enabled:
                self._exact_add(signal_type, value, entry_id)
            else:
                self._exact_remove(signal_type, value, entry_id)

    def _exact_add(self, signal_type: str, value: str, entry_id: int) -> None:
        table, key = self._exact[signal_type], bytes.fromhex(value)
        present = table.get(key, ())
        if entry_id not in present:
            table[key] = (*present, entry_id)

    def _exact_remove(self, signal_type: str, value: str, entry_id: int) -> None:
        table, key = self._exact[signal_type], bytes.fromhex(value)
        rest = tuple(i for i in table.get(key, ()) if i != entry_id)
        if rest:
            table[key] = rest
        else:
            table.pop(key, None)

    def _video_add(self, entry_id: int, data: str | None, enabled: bool) -> None:
        for features in _features(entry_id, data):
            self._video.add(entry_id, features, enabled=enabled)

    def _size(self) -> int:
        return self._pdq_count + len(self._video) + sum(len(t) for t in self._exact.values())

    # -- matching ---------------------------------------------------------------------------

    def match(self, session: Session, query: MatchQuery) -> MatchResult:
        self.refresh(session)
        candidates = self._candidates(query)
        frames = self._video_candidates(query)
        candidates.update({entry: [(int(hits.distances.min()), 0)] for entry, hits in frames.items()})
        if not candidates:
            return MatchResult(pdq_used=query.pdq_usable)
        # Every candidate is confirmed before anything is cut: a negative bank's entry must
        # cancel the positives however many nearer entries there are.
        found = _confirmed(session, candidates, frames)
        negatives = [m for m in found if m.bank_kind == BankKind.NEGATIVE]
        positives = [m for m in found if m.bank_kind != BankKind.NEGATIVE]
        if negatives:
            return MatchResult(
                negatives=negatives[:MAX_MATCHES],
                suppressed=positives[:MAX_MATCHES],
                pdq_used=query.pdq_usable,
                omitted=max(0, len(positives) - MAX_MATCHES),
            )
        rollout = _rollouts(session, {m.bank_id for m in positives})
        kept = [m for m in positives if in_rollout(bank_name=m.bank, content_key=query.content_key, percent=rollout[m.bank_id])]
        return MatchResult(
            matches=kept[:MAX_MATCHES],
            held_back=len(positives) - len(kept),
            pdq_used=query.pdq_usable,
            omitted=max(0, len(kept) - MAX_MATCHES),
        )

    def _candidates(self, query: MatchQuery) -> Candidates:
        """entry id -> [(distance, orientation)], before the database confirms them."""
        found: Candidates = {}
        if query.pdq_usable and query.pdq is not None:
            if query.pdq_dihedral:
                # One batched lookup of all eight: an entry made from a rotated or flipped
                # copy of the upload is within the threshold of one of them. Always all
                # eight (benchmarks/match.py: a few times one lookup, still small beside
                # hashing); which banks take which orientation is confirmed below, in the
                # caller's transaction, so a bank's setting applies from the next lookup.
                rows = np.frombuffer(b"".join(bytes.fromhex(h) for h in query.pdq_dihedral), np.uint8).reshape(-1, 32)
                hits = self._index.query_batch_arrays(rows, threshold=self._max_threshold)
                for orientation, entry_id, distance in zip(
                    hits.query.tolist(), hits.ids.tolist(), hits.distances.tolist(), strict=True
                ):
                    found.setdefault(entry_id, []).append((distance, orientation))
                for options in found.values():
                    options.sort()
            else:
                for hit in self._index.query(bytes.fromhex(query.pdq), threshold=self._max_threshold):
                    found[hit.id] = [(hit.distance, 0)]
        for kind in self._exact_kinds:
            value = query.exact_value(kind)
            if value:
                found.update(dict.fromkeys(self._exact[kind.name].get(bytes.fromhex(value), ()), [(0, 0)]))
        return found

    def _video_candidates(self, query: MatchQuery) -> dict[int, video.FrameHits]:
        """vPDQ entries with a frame within the largest bank threshold of one of the query
        video's; each bank's own threshold and the percentages are applied on confirming."""
        if not query.vpdq or not len(self._video):
            return {}
        try:
            features = video.parse(query.vpdq)
        except ValueError:
            return {}
        found = self._video.hits(features, threshold=self._max_threshold)
        # the percentages only fall with a smaller threshold: what fails at the widest never matches
        return {entry: hits for entry, hits in found.items() if (seen := hits.at(self._max_threshold)) and seen.matches()}

    def stats(self) -> MatcherStats:
        exact = sum(len(t) for t in self._exact.values())
        index_bytes = self._index.memory_bytes() + self._video.memory_bytes()  # vPDQ frames too
        return MatcherStats(
            pdq_entries=len(self._index),
            exact_entries=exact,
            index_bytes=index_bytes,
            exact_bytes=exact * EXACT_BYTES_PER_ENTRY,
            bytes_per_pdq_hash=index_bytes / max(1, len(self._index)),
            last_change_id=self._last_change,
            max_entries=self.max_entries,
            refused_entries=self.refused,
        )


def _features(entry_id: int, data: str | None) -> list[list[video.Feature]]:
    """A vPDQ entry's frames, as a list of one; none where its signal does not parse (written
    by the banks' own validation, so it cannot be, but it must never stop a load)."""
    try:
        return [video.parse(data or "")]
    except ValueError:
        log.error("vPDQ entry %d has an unreadable signal; it is not matched", entry_id)
        return []


def _confirmed(session: Session, candidates: Candidates, frames: dict[int, video.FrameHits] | None = None) -> list[BankMatch]:
    """Candidates that the database confirms: entry and bank enabled, within the bank's
    threshold (for vPDQ: frames within it, and python-threatexchange's percentages);
    nearest first."""
    ids = sorted(candidates)
    found = []
    for start in range(0, len(ids), _CONFIRM_CHUNK):
        found += _confirmed_chunk(session, candidates, ids[start : start + _CONFIRM_CHUNK], frames or {})
    return sorted(found, key=lambda m: (m.distance, m.bank, m.entry_id))


def _confirmed_chunk(
    session: Session, candidates: Candidates, ids: list[int], frames: dict[int, video.FrameHits]
) -> list[BankMatch]:
    query = (
        select(BankEntry, Bank)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(BankEntry.id.in_(ids), BankEntry.enabled.is_(True), Bank.enabled.is_(True))
    )
    found = []
    registry = active()
    for entry, bank in session.execute(query):
        # the nearest orientation this bank takes (the upload as it is, unless all_orientations)
        options = candidates[entry.id] if bank.all_orientations else [o for o in candidates[entry.id] if o[1] == 0]
        if not options:
            continue
        distance, orientation = options[0]
        kind = registry.get(entry.signal_type)
        if kind is not None and kind.index_kind is IndexKind.PDQ_INDEX and distance > bank.threshold:
            continue
        percents: dict[str, float] = {}
        if kind is not None and kind.index_kind is IndexKind.VPDQ:
            hits = frames.get(entry.id)
            seen = hits.at(bank.threshold) if hits is not None else None
            if seen is None or not seen.matches():
                continue
            distance = seen.distance
            percents = {"query_match_percent": seen.query_match_percent, "compared_match_percent": seen.compared_match_percent}
        found.append(
            BankMatch(
                bank_id=bank.id,
                bank=bank.name,
                bank_kind=bank.kind,
                entry_id=entry.id,
                signal_type=entry.signal_type,
                value=entry.value,
                distance=distance,
                policy=bank.policy,
                dsa_category=bank.dsa_category,
                labels=tuple(bank.labels),
                action_paused=entry.flood_paused_at is not None,
                exchange=entry.exchange,
                **percents,
                orientation=ORIENTATIONS[orientation],
            )
        )
    return found


def _rollouts(session: Session, bank_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(bank_ids)
    return dict(session.execute(select(Bank.id, Bank.rollout_percent).where(Bank.id.in_(ids))).all()) if ids else {}


def shared_matcher(container: Container) -> MatchService:
    """The process's matcher, kept in the application container's `matcher` (made on first use)."""
    if container.matcher is None:
        settings = container.settings
        container.matcher = MatchService(max_entries=settings.match_max_entries, refresh_seconds=settings.match_refresh_seconds)
    return container.matcher
