"""Retroaction: when a bank gains entries, the stored hashes of past uploads are matched
against ONLY the new entries, and what they find goes to review. Where the automation
policy allows it for the bank, the matched message is also removed at once (automation.py),
and the review case says so for a person to confirm.

The efficient direction: the new entries (usually few) become a small temporary PDQIndex
and the stored hashes stream through it in batches, instead of querying the big index once
per stored upload. Exact signals are plain indexed SQL lookups. New vPDQ entries become a
small frame-level `VideoIndex`, and each stored video's vPDQ is one batched search of it,
matched by python-threatexchange's percentages at the bank's threshold. Negative banks and the
bank's rollout apply exactly as at upload time, and a pair already recorded is never
recorded or sent to review twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.paging import Pager
from trustdesk.platform.port import Platform
from trustdesk.safety.banks import flood
from trustdesk.safety.banks.automation import remove_matched
from trustdesk.safety.banks.matcher import MIN_PDQ_QUALITY, in_rollout
from trustdesk.safety.banks.models import Bank, BankEntry, BankKind, HashMatch, MatchSource, MediaHash, RetroactionRun
from trustdesk.safety.banks.service import get_bank
from trustdesk.safety.review import service as review
from trustdesk.safety.review.routing import route
from trustdesk.safety.signals import video
from trustdesk.safety.signals.index import PDQIndex
from trustdesk.safety.signals.types.base import IndexKind
from trustdesk.safety.signals.types.registry import active

SCAN_BATCH = 20_000
URGENT_POLICIES = frozenset({"child_sexual_exploitation", "grooming", "terrorism"})


@dataclass
class _Finding:
    media: MediaHash
    entry: BankEntry
    distance: int


@dataclass
class NegativeScreen:
    """The enabled entries of every enabled negative bank, for checking candidates."""

    index: PDQIndex
    thresholds: dict[int, int]
    exact: dict[str, set[str]] = field(default_factory=dict)
    videos: video.VideoIndex = field(default_factory=video.VideoIndex)

    @classmethod
    def build(cls, session: Session) -> NegativeScreen:
        query = (
            select(BankEntry, Bank.threshold)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.kind == BankKind.NEGATIVE.value, Bank.enabled.is_(True), BankEntry.enabled.is_(True))
        )
        rows = session.execute(query).all()
        pdq = [(e.id, e.value, t) for e, t in rows if _index_kind(e) is IndexKind.PDQ_INDEX]
        index = PDQIndex.build(_as_array([v for _, v, _ in pdq]), [i for i, _, _ in pdq])
        exact: dict[str, set[str]] = defaultdict(set)
        videos, thresholds = video.VideoIndex(), {i: t for i, _, t in pdq}
        for entry, threshold in rows:
            if _index_kind(entry) is IndexKind.EXACT:
                exact[entry.signal_type].add(entry.value)
            elif _index_kind(entry) is IndexKind.VPDQ and entry.signal_data:
                videos.add(entry.id, video.parse(entry.signal_data))
                thresholds[entry.id] = threshold
        return cls(index=index, thresholds=thresholds, exact=exact, videos=videos)

    def blocks(self, media: MediaHash) -> bool:
        for kind in active().by_index(IndexKind.EXACT):
            if kind.applies_to(media.kind) and getattr(media, kind.media_field) in self.exact.get(kind.name, ()):
                return True
        if media.vpdq and len(self.videos):
            for entry_id, hits in self.videos.hits(video.parse(media.vpdq), threshold=64).items():
                seen = hits.at(self.thresholds[entry_id])
                if seen is not None and seen.matches():
                    return True
        if media.pdq is None or not self.thresholds:
            return False
        return any(hit.distance <= self.thresholds[hit.id] for hit in self.index.query(bytes.fromhex(media.pdq), threshold=64))


def _index_kind(entry: BankEntry) -> IndexKind | None:
    kind = active().get(entry.signal_type)
    return None if kind is None else kind.index_kind


def _as_array(values: Sequence[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(v) for v in values), np.uint8).reshape(-1, 32)


def retroact(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    bank_id: int,
    entry_ids: Sequence[int],
    trigger: str,
    platform: Platform | None = None,
    pager: Pager | None = None,
) -> RetroactionRun:
    """Match stored uploads against the given new entries of one bank; record, count for the
    flood guard, route what is found, and (with a platform, where policy allows) remove it.
    Returns the run's summary row."""
    bank = get_bank(session, bank_id=bank_id)
    entries = _entries(session, bank=bank, entry_ids=entry_ids)
    findings, scanned = ([], 0) if not entries else _find(session, bank=bank, entries=entries)
    kept: list[_Finding] = []
    if findings:  # the screen is built only when there is something to screen
        screen = NegativeScreen.build(session)
        kept = [
            f
            for f in findings
            if not screen.blocks(f.media)
            and in_rollout(bank_name=bank.name, content_key=f.media.sha256, percent=bank.rollout_percent)
        ]
    new = _record(session, clock=clock, findings=kept)
    _count(session, actor=actor, clock=clock, findings=new, pager=pager)
    cases = _route(session, actor=actor, clock=clock, bank=bank, findings=new)
    removed = _remove(session, actor=actor, clock=clock, platform=platform, bank=bank, findings=new) if platform else 0
    run = RetroactionRun(
        bank_id=bank.id,
        trigger=trigger[:200],
        entries=len(entries),
        media_scanned=scanned,
        matches=len(new),
        cases=cases,
        at=clock.now(),
        detail={"suppressed_or_held_back": len(findings) - len(kept), "removed": removed},
    )
    session.add(run)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="bank.retroaction",
        object_type="bank",
        object_id=bank.id,
        reason=trigger,
        details={"entries": len(entries), "scanned": scanned, "matches": len(new), "cases": cases, "removed": removed},
    )
    return run


def _count(
    session: Session, *, actor: Actor, clock: Clock, findings: list[tuple[_Finding, HashMatch]], pager: Pager | None
) -> None:
    """Retroactive matches count for the flood guard like upload-time ones, all before any
    removal: a bad entry that matches a crowd of old uploads is paused before it acts."""
    for finding, _ in findings:
        flood.count_hits(session, actor=actor, clock=clock, entry_ids=[finding.entry.id], pager=pager)
    for finding, row in findings:
        row.action_paused = row.action_paused or finding.entry.flood_paused_at is not None
    session.flush()


def _remove(
    session: Session, *, actor: Actor, clock: Clock, platform: Platform, bank: Bank, findings: list[tuple[_Finding, HashMatch]]
) -> int:
    """One automatic removal per media item at most (several entries may match it)."""
    done: set[int] = set()
    removed = 0
    for finding, row in findings:
        if finding.media.id in done:
            continue
        outcome = remove_matched(
            session, actor=actor, clock=clock, platform=platform, bank=bank, media=finding.media, entry=finding.entry, match=row
        )
        if outcome is not None:
            done.add(finding.media.id)
            removed += outcome.removed
    return removed


def _entries(session: Session, *, bank: Bank, entry_ids: Sequence[int]) -> list[BankEntry]:
    """Enabled entries of an enabled positive bank; a negative bank finds nothing to act on."""
    if bank.kind != BankKind.POSITIVE or not bank.enabled:
        return []
    ids = sorted(set(entry_ids))
    found: list[BankEntry] = []
    for start in range(0, len(ids), 500):
        query = select(BankEntry).where(
            BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True), BankEntry.id.in_(ids[start : start + 500])
        )
        found.extend(session.scalars(query))
    return found


def _find(session: Session, *, bank: Bank, entries: list[BankEntry]) -> tuple[list[_Finding], int]:
    pdq = [e for e in entries if _index_kind(e) is IndexKind.PDQ_INDEX]
    findings, scanned = _scan_pdq(session, bank=bank, entries=pdq) if pdq else ([], 0)
    videos = [e for e in entries if _index_kind(e) is IndexKind.VPDQ]
    found, scanned_videos = _scan_vpdq(session, bank=bank, entries=videos) if videos else ([], 0)
    return findings + found + _exact(session, entries), scanned + scanned_videos


def _scan_vpdq(session: Session, *, bank: Bank, entries: list[BankEntry]) -> tuple[list[_Finding], int]:
    """Stored videos against the new vPDQ entries: one batched frame search per video."""
    index = video.VideoIndex()
    for entry in entries:
        index.add(entry.id, video.parse(entry.signal_data or ""))
    by_id = {e.id: e for e in entries}
    findings: list[_Finding] = []
    scanned, last = 0, 0
    while True:
        query = select(MediaHash).where(MediaHash.id > last, MediaHash.vpdq.is_not(None)).order_by(MediaHash.id)
        batch = list(session.scalars(query.limit(SCAN_BATCH // 100)))  # a video's signal is ~75 bytes a second
        if not batch:
            return findings, scanned
        scanned += len(batch)
        last = batch[-1].id
        for media in batch:
            try:
                features = video.parse(media.vpdq or "")
            except ValueError:
                continue
            for entry_id, match in index.query(features, threshold=bank.threshold).items():
                if match.matches():
                    findings.append(_Finding(media, by_id[entry_id], match.distance))


def _scan_pdq(session: Session, *, bank: Bank, entries: list[BankEntry]) -> tuple[list[_Finding], int]:
    index = PDQIndex.build(_as_array([e.value for e in entries]), [e.id for e in entries])
    by_id = {e.id: e for e in entries}
    findings, scanned = [], 0
    for batch in _stored_pdq(session):
        scanned += len(batch)
        hits = index.query_batch_arrays(_as_array([m.pdq for m in batch]), threshold=bank.threshold)  # type: ignore[misc]
        for q, entry_id, distance in zip(hits.query.tolist(), hits.ids.tolist(), hits.distances.tolist(), strict=True):
            findings.append(_Finding(batch[q], by_id[entry_id], distance))
    return findings, scanned


def _stored_pdq(session: Session) -> Iterator[list[MediaHash]]:
    last = 0
    while True:
        query = select(MediaHash).where(MediaHash.id > last, MediaHash.pdq.is_not(None), MediaHash.pdq_quality >= MIN_PDQ_QUALITY)
        batch = list(session.scalars(query.order_by(MediaHash.id).limit(SCAN_BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def _exact(session: Session, entries: list[BankEntry]) -> list[_Finding]:
    """Stored uploads whose MD5 or SHA-256 (each exact type's `media_field`) equals a new
    entry's, by indexed IN lookups."""
    findings: list[_Finding] = []
    for kind in active().by_index(IndexKind.EXACT):
        group = {e.value: e for e in entries if e.signal_type == kind.name}
        values, column_name = sorted(group), kind.media_field
        column = getattr(MediaHash, column_name)
        for start in range(0, len(values), 500):
            query = select(MediaHash).where(column.in_(values[start : start + 500]))
            if kind.media_kinds is not None:
                query = query.where(MediaHash.kind.in_(sorted(kind.media_kinds)))
            findings.extend(_Finding(m, group[getattr(m, column_name)], 0) for m in session.scalars(query))
    return findings


def _record(session: Session, *, clock: Clock, findings: list[_Finding]) -> list[tuple[_Finding, HashMatch]]:
    new = []
    for finding in findings:
        known = select(HashMatch.id).where(HashMatch.media_hash_id == finding.media.id, HashMatch.entry_id == finding.entry.id)
        if session.scalar(known) is not None:
            continue
        row = HashMatch(
            media_hash_id=finding.media.id,
            entry_id=finding.entry.id,
            bank_id=finding.entry.bank_id,
            distance=finding.distance,
            source=MatchSource.RETROACTION.value,
            action_paused=finding.entry.flood_paused_at is not None,
            matched_at=clock.now(),
        )
        session.add(row)
        new.append((finding, row))
    session.flush()
    return new


def _same_media_case(session: Session, media: MediaHash) -> tuple[str, str, list[str]]:
    """Where a match on this upload goes: the open case about the same image (same SHA-256,
    or the same PDQ hash, on the same platform, uploaded under another media id or message)
    when there is one, so that one image makes one case; else a case about this upload.
    Returns (subject kind, subject id, the media ids grouped in that case, when grouped)."""
    same = or_(MediaHash.sha256 == media.sha256, and_(MediaHash.pdq.is_not(None), MediaHash.pdq == media.pdq))
    siblings = session.scalars(
        select(MediaHash).where(MediaHash.platform == media.platform, MediaHash.id != media.id, same).order_by(MediaHash.id)
    ).all()
    for sibling in siblings:
        for kind, subject in (("media", sibling.media_id), ("message", sibling.message_id)):
            if subject is None:
                continue
            case = review.open_case_for(session, subject_kind=kind, subject_id=subject)
            if case is not None:
                grouped = [*((case.signals or {}).get("duplicate_media") or [case.subject_id]), media.media_id]
                return case.subject_kind, case.subject_id, list(dict.fromkeys(grouped))
    return "media", media.media_id, []


def _route(session: Session, *, actor: Actor, clock: Clock, bank: Bank, findings: list[tuple[_Finding, HashMatch]]) -> int:
    """One review case per media item (repeat matches join it)."""
    if not findings:
        return 0
    review.ensure_queues(session, actor=actor, clock=clock)
    queue = route(policy=bank.policy, source="hash_match")
    priority = 90 if bank.policy in URGENT_POLICIES else 60
    cases = set()
    for finding, row in findings:
        kind, subject, duplicates = _same_media_case(session, finding.media)
        case = review.open_case(
            session,
            actor=actor,
            clock=clock,
            subject_kind=kind,
            subject_id=subject,
            queue=queue,
            priority=priority,
            source="hash_match",
            policy_hint=bank.policy,
            rule_ref=f"bank:{bank.id}/entry:{finding.entry.id}",
            reason=f"Retroactive hash match: bank '{bank.name}', {finding.entry.signal_type} entry {finding.entry.id}, "
            f"distance {finding.distance}" + (" (flood guard: automatic action paused)" if row.action_paused else ""),
            signals={
                ("hash_match" if not duplicates else f"hash_match {finding.media.media_id}"): {
                    "bank": bank.name,
                    "entry_id": finding.entry.id,
                    "signal_type": finding.entry.signal_type,
                    "distance": finding.distance,
                    "platform": finding.media.platform,
                    "retroactive": True,
                    "media_id": finding.media.media_id,
                },
                **({"duplicate_media": duplicates} if duplicates else {}),
            },
        )
        row.case_id = case.id
        cases.add(case.id)
    session.flush()
    return len(cases)
