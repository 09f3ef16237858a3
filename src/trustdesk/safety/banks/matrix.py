"""Matrix uploads and the messages that post them, remembered by the hash banks (for
retroaction): what the connector's media check and event stream (`safety/connector.py`) do
after the platform's own check. Cross-domain work: the Matrix side (`platform/matrix/`) knows
no bank."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.paging import Pager
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.safety.banks.lookup import check_hashed, check_upload, hash_in, link_message, stored_media
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.signals.hashing import MediaHashes

POSTING_TYPES = frozenset({"m.room.message", "m.sticker"})


def hash_upload(media: dict[str, Any], *, cpu: CpuPool | None = None) -> MediaHashes | None:
    """The hashes of an upload Synapse is about to store, computed in `cpu` before the media
    check opens its transaction (on SQLite a transaction holds the write lock: held through a
    hash, it would make every other request wait). None when the upload is not sent inline or
    is no readable image: it is not remembered, and the check itself is not failed."""
    if not media.get("data_b64"):
        return None  # too large to travel inline: hashed from the admin API when its message arrives
    try:
        return hash_in(cpu, base64.b64decode(media["data_b64"]))
    except (binascii.Error, TrustdeskError):  # bad base64 is the platform check's to refuse
        return None


def remember_upload(
    session: Session,
    *,
    matcher: MatchService,
    media: dict[str, Any],
    hashes: MediaHashes | None,
    actor: Actor,
    clock: Clock,
    pager: Pager | None = None,
) -> None:
    """Remember an upload the media check let through, with its `hashes` (`hash_upload`), so
    that bank entries added later find it (retroaction). Never fails the check."""
    if hashes is None:
        return
    try:
        with session.begin_nested():
            check_hashed(
                session,
                matcher=matcher,
                actor=actor,
                clock=clock,
                platform_name=MatrixPlatform.name,
                media_id=f"{media['server_name']}/{media['media_id']}",
                hashes=hashes,
                pager=pager,
            )
    except TrustdeskError:
        return


def remember_posted_media(
    session: Session,
    *,
    matcher: MatchService,
    events: list[dict[str, Any]],
    platform: Platform | None,
    actor: Actor,
    clock: Clock,
    pager: Pager | None = None,
    cpu: CpuPool | None = None,
) -> int:
    """Link each posted file to the message (event) that carries it; a file not seen at upload
    (too large to send inline, or Trustdesk was down) is fetched and hashed now. Returns how
    many files were linked."""
    linked = 0
    for event in events:
        media_id = _posted_media(event)
        if media_id is None:
            continue
        stored = stored_media(session, platform_name=MatrixPlatform.name, media_id=media_id)
        if stored is not None:
            link_message(stored, message_id=event["event_id"])
            linked += 1
        elif platform is not None:
            linked += _fetch_and_remember(
                session,
                matcher=matcher,
                platform=platform,
                media_id=media_id,
                event_id=event["event_id"],
                actor=actor,
                clock=clock,
                pager=pager,
                cpu=cpu,
            )
    session.flush()
    return linked


def _posted_media(event: dict[str, Any]) -> str | None:
    """`server/media_id` of an unencrypted file a message posts (encrypted files are opaque)."""
    url = (event.get("content") or {}).get("url")
    if event.get("type") not in POSTING_TYPES or not isinstance(url, str) or not url.startswith("mxc://"):
        return None
    return url.removeprefix("mxc://")


def _fetch_and_remember(
    session: Session,
    *,
    matcher: MatchService,
    platform: Platform,
    media_id: str,
    event_id: str,
    actor: Actor,
    clock: Clock,
    pager: Pager | None,
    cpu: CpuPool | None,
) -> int:
    try:
        item, data = platform.get_media(media_id)
        with session.begin_nested():
            check_upload(
                session,
                matcher=matcher,
                actor=actor,
                clock=clock,
                platform_name=MatrixPlatform.name,
                media_id=media_id,
                data=data,
                content_type=item.content_type,
                pager=pager,
                message_id=event_id,
                cpu=cpu,
            )
    except (LookupError, PlatformError, TrustdeskError):
        return 0
    return 1
