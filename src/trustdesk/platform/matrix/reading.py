"""Synapse's JSON into the port's dataclasses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from trustdesk.platform.port import Account, AccountState, MediaItem, Message, MessageState

MESSAGE_TYPES = frozenset({"m.room.message", "m.room.encrypted", "m.sticker"})


def from_ts(value: int | float) -> datetime:
    """Synapse gives seconds in some places and milliseconds in others."""
    seconds = value / 1000 if value > 1e11 else value
    return datetime.fromtimestamp(seconds, UTC)


def account_state(user: dict[str, Any]) -> AccountState:
    if user.get("deactivated"):
        return AccountState.DEACTIVATED
    if user.get("locked"):
        return AccountState.SUSPENDED
    if user.get("suspended") or user.get("shadow_banned"):
        return AccountState.RESTRICTED
    return AccountState.ACTIVE


def to_account(user: dict[str, Any]) -> Account:
    threepids = {t["medium"]: t["address"] for t in user.get("threepids") or []}
    phone = threepids.get("msisdn")
    return Account(
        id=user["name"],
        username=user["name"].lstrip("@").split(":", 1)[0],
        display_name=user.get("displayname") or user["name"],
        phone=f"+{phone}" if phone else None,
        email=threepids.get("email"),
        created_at=from_ts(user.get("creation_ts") or 0),
        state=account_state(user),
    )


def to_message(event: dict[str, Any], *, media: Callable[[dict[str, Any]], tuple[MediaItem, ...]]) -> Message:
    redacted = bool(event.get("unsigned", {}).get("redacted_because"))
    content = event.get("content") or {}
    text = content.get("body") if event["type"] != "m.room.encrypted" else None
    return Message(
        id=event["event_id"],
        chat_id=event["room_id"],
        sender_id=event["sender"],
        sent_at=from_ts(event["origin_server_ts"]),
        text=text if isinstance(text, str) else None,
        state=MessageState.REMOVED if redacted else MessageState.VISIBLE,
        media=() if redacted else media(event),
    )
