"""Hash and match in one call, as the lookup API, the console form, the CLI and the pipeline
use it. A platform upload (with a media id) is remembered in `safety_media_hashes`, its
matches are recorded and counted by the flood guard; an ad-hoc file or a raw hash is only
matched, never stored, because it is not something the platform carries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.errors import InvalidInput, NotFound, TooLarge, UnsupportedMedia
from trustdesk.core.paging import Pager
from trustdesk.core.settings import CpuPoolKind
from trustdesk.platform.port import Platform
from trustdesk.safety.banks import flood
from trustdesk.safety.banks.matcher import MatchQuery, MatchResult, MatchService
from trustdesk.safety.banks.models import HashMatch, MatchSource, MediaHash
from trustdesk.safety.signals.hashing import (
    MAX_PIXELS,
    ImageTooLarge,
    MediaHashes,
    MediaKind,
    UnreadableMedia,
    UnsupportedImage,
    hash_media,
)
from trustdesk.safety.signals.types.registry import active
from trustdesk.safety.signals.video import UnreadableVideo

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Lookup:
    hashes: MediaHashes
    result: MatchResult
    media_hash_id: int | None = None
    flood_alerts: list[int] = field(default_factory=list)


def hash_bytes(data: bytes | BinaryIO, *, content_type: str | None = None, max_pixels: int = MAX_PIXELS) -> MediaHashes:
    """The hashes of a file given as bytes or as a binary file (an upload spooled to disk,
    read from its start in chunks, never whole)."""
    _check_size(data)
    with _media_errors():
        return hash_media(data, content_type=content_type, max_pixels=max_pixels, dihedral=True)


def hash_in(
    cpu: CpuPool | None, data: bytes | BinaryIO, *, content_type: str | None = None, max_pixels: int = MAX_PIXELS
) -> MediaHashes:
    """`hash_bytes` in a CPU pool (bounded, and off the event loop), or inline without one
    (the CLI, a pipeline worker that is itself a thread of its own). A thread (or no pool)
    reads a file where it is; a process pool is sent its bytes, read once, after the size
    check. The pool runs `hash_media` itself, whose module is light to import (a process
    worker starts in under a second, not the five of the banks' modules)."""
    if cpu is None:
        return hash_bytes(data, content_type=content_type, max_pixels=max_pixels)
    _check_size(data)
    if cpu.kind is CpuPoolKind.PROCESS and not isinstance(data, (bytes, bytearray, memoryview)):
        data.seek(0)
        data = data.read()
    with _media_errors():
        return cpu.call(hash_media, data, content_type=content_type, max_pixels=max_pixels, dihedral=True)


@contextmanager
def _media_errors() -> Iterator[None]:
    """The hasher's errors as the API's: too large (413), unreadable (422)."""
    try:
        yield
    except ImageTooLarge as exc:
        raise TooLarge(f"The image is too large to hash: {exc}.", field="file") from None
    except UnsupportedImage as exc:
        raise UnsupportedMedia(f"The file cannot be hashed: {exc}.", field="file") from None
    except UnreadableVideo as exc:
        raise InvalidInput(f"The file could not be read as a video: {exc}.", field="file") from None
    except UnreadableMedia as exc:
        raise InvalidInput(f"The file could not be read as an image: {exc}.", field="file") from None


def _check_size(data: bytes | BinaryIO) -> None:
    """Empty or over MAX_UPLOAD_BYTES is refused before anything is read (a file's size from
    its end)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        size = len(data)
    else:
        size = data.seek(0, 2)
        data.seek(0)
    if not size:
        raise InvalidInput("The file is empty.", field="file")
    if size > MAX_UPLOAD_BYTES:
        raise TooLarge(f"Files up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB can be hashed here.")


def query_for(hashes: MediaHashes) -> MatchQuery:
    return MatchQuery(
        md5=hashes.md5,
        sha256=hashes.sha256,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        vpdq=hashes.vpdq,
        video=hashes.kind == MediaKind.VIDEO,
        pdq_dihedral=hashes.pdq_dihedral,
    )


def lookup_file(
    session: Session,
    *,
    matcher: MatchService,
    data: bytes | BinaryIO,
    content_type: str | None = None,
    cpu: CpuPool | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Lookup:
    """Hash a file (in `cpu` when given) and match it; nothing is stored."""
    hashes = hash_in(cpu, data, content_type=content_type, max_pixels=max_pixels)
    return Lookup(hashes=hashes, result=matcher.match(session, query_for(hashes)))


def lookup_raw(session: Session, *, matcher: MatchService, signal_type: str, value: str) -> MatchResult:
    """Match one given hash (HMA's /m/raw_lookup)."""
    kind = active().parse(signal_type)
    # The value stands for an upload's hash of that field; a video-only type asks as a video.
    given: dict[str, Any] = {kind.media_field: kind.normalise(value)}
    query = MatchQuery(**given, video="video" in (kind.media_kinds or ()))
    return matcher.match(session, query)


def check_upload(
    session: Session,
    *,
    matcher: MatchService,
    actor: Actor,
    clock: Clock,
    platform_name: str,
    media_id: str,
    data: bytes,
    content_type: str | None = None,
    pager: Pager | None = None,
    base_url: str = "",
    message_id: str | None = None,
    cpu: CpuPool | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Lookup:
    """The pipeline's entry point for one platform upload: hash (in `cpu` when given),
    remember, match, record, count for the flood guard. `message_id`, when known, is the
    message that carries it."""
    hashes = hash_in(cpu, data, content_type=content_type, max_pixels=max_pixels)
    return check_hashed(
        session,
        matcher=matcher,
        actor=actor,
        clock=clock,
        platform_name=platform_name,
        media_id=media_id,
        hashes=hashes,
        pager=pager,
        base_url=base_url,
        message_id=message_id,
    )


def check_hashed(
    session: Session,
    *,
    matcher: MatchService,
    actor: Actor,
    clock: Clock,
    platform_name: str,
    media_id: str,
    hashes: MediaHashes,
    pager: Pager | None = None,
    base_url: str = "",
    message_id: str | None = None,
) -> Lookup:
    """`check_upload` of an upload hashed already: for a caller that hashes before its
    transaction begins (on SQLite a transaction holds the write lock: held through a hash, it
    makes every other request wait)."""
    stored = remember(session, clock=clock, platform_name=platform_name, media_id=media_id, hashes=hashes, message_id=message_id)
    result = matcher.match(session, query_for(hashes))
    new = record_matches(session, clock=clock, media=stored, result=result, source=MatchSource.LOOKUP)
    alerts = flood.count_hits(
        session, actor=actor, clock=clock, entry_ids=[m.entry_id for m in new], pager=pager, base_url=base_url
    )
    return Lookup(hashes=hashes, result=result, media_hash_id=stored.id, flood_alerts=[a.id for a in alerts])


def lookup_platform_media(
    session: Session,
    *,
    matcher: MatchService,
    platform: Platform,
    actor: Actor,
    clock: Clock,
    media_id: str,
    pager: Pager | None = None,
    base_url: str = "",
    cpu: CpuPool | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Lookup:
    """Fetch a media item from the platform by id, then `check_upload` it."""
    try:
        item, data = platform.get_media(media_id)
    except LookupError:
        raise NotFound(f"The platform has no media '{media_id}'.") from None
    return check_upload(
        session,
        matcher=matcher,
        actor=actor,
        clock=clock,
        platform_name=platform.name,
        media_id=item.id,
        data=data,
        content_type=item.content_type,
        pager=pager,
        base_url=base_url,
        message_id=item.message_id,
        cpu=cpu,
        max_pixels=max_pixels,
    )


def remember(
    session: Session,
    *,
    clock: Clock,
    platform_name: str,
    media_id: str,
    hashes: MediaHashes,
    message_id: str | None = None,
) -> MediaHash:
    """Store (or find) the hashes of one platform media item; the same id is stored once.
    A message id learnt later (the upload is checked before it is posted) is added to it."""
    if not media_id.strip() or len(media_id) > 128:
        raise InvalidInput("A media id has 1 to 128 characters.", field="media_id")
    existing = _stored(session, platform_name=platform_name, media_id=media_id)
    if existing is not None:
        return link_message(existing, message_id=message_id)
    row = MediaHash(
        platform=platform_name,
        media_id=media_id,
        kind=hashes.kind.value,
        md5=hashes.md5,
        sha256=hashes.sha256,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        vpdq=hashes.vpdq,
        seen_at=clock.now(),
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # stored by a concurrent worker a moment ago
        return link_message(_stored(session, platform_name=platform_name, media_id=media_id), message_id=message_id)  # type: ignore[arg-type]
    return row


def link_message(media: MediaHash, *, message_id: str | None) -> MediaHash:
    """Note the first message seen carrying this media (a forward of the same file keeps the
    first: retroaction removes that one, and a person finds the others from the case)."""
    if message_id and media.message_id is None:
        media.message_id = message_id[:255]
    return media


def stored_media(session: Session, *, platform_name: str, media_id: str) -> MediaHash | None:
    """The remembered hashes of one platform media item, if it was seen."""
    return _stored(session, platform_name=platform_name, media_id=media_id)


def _stored(session: Session, *, platform_name: str, media_id: str) -> MediaHash | None:
    return session.scalars(select(MediaHash).where(MediaHash.platform == platform_name, MediaHash.media_id == media_id)).first()


def record_matches(
    session: Session, *, clock: Clock, media: MediaHash, result: MatchResult, source: MatchSource
) -> list[HashMatch]:
    """One row per (media, entry) pair not recorded before; returns the new ones."""
    known = set(session.scalars(select(HashMatch.entry_id).where(HashMatch.media_hash_id == media.id)))
    new = [
        HashMatch(
            media_hash_id=media.id,
            entry_id=m.entry_id,
            bank_id=m.bank_id,
            distance=m.distance,
            orientation=m.orientation,
            source=source.value,
            action_paused=m.action_paused,
            matched_at=clock.now(),
        )
        for m in result.matches
        if m.entry_id not in known
    ]
    session.add_all(new)
    session.flush()
    return new
