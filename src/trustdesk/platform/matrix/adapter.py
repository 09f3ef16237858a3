"""The platform port on a Matrix homeserver, through Synapse's admin API.

Ids are Matrix's own: accounts are user ids (`@alice:example.org`), chats are room ids,
messages are event ids, media are `server/media_id`. How the port's actions map:

| port                  | Synapse                                                         |
|-----------------------|-----------------------------------------------------------------|
| remove_message        | redaction by the moderation bot (made room admin when needed),  |
|                       | and quarantine of the media the message carried                 |
| restore_message       | refused: a Matrix redaction strips the event for every server   |
| restrict_account      | suspension (MSC3823: read-only, cannot send, join or invite)    |
| suspend_account       | lock (cannot use the account at all, not deactivated)           |
| shadow_ban            | shadow-ban (their sends look fine to them, nobody receives them) |
| deactivate_account    | deactivation, without erasure (the data stays for disclosures)  |
| close_chat            | room shutdown: members removed, room blocked, history kept      |
| restrict_message,     | refused: a homeserver sends every event of a room to every      |
| lift_message_restr.   | member's client and to their servers; there is no per-viewer or |
|                       | per-country visibility to set (`capabilities` is empty)         |
| reopen_chat           | refused: the shutdown removed every member, admins included     |

Synapse has no expiry on suspensions or locks: `until` is accepted and reported, and lifting
it at that time is Trustdesk's enforcement job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trustdesk.core.settings import Settings
from trustdesk.platform.matrix.admin import SynapseAdmin, q
from trustdesk.platform.matrix.held import retrieve_held
from trustdesk.platform.matrix.reading import MESSAGE_TYPES, to_account, to_message
from trustdesk.platform.port import (
    Account,
    AccountState,
    ActionResult,
    Capability,
    Chat,
    ChatKind,
    DataCategory,
    HeldData,
    MediaItem,
    Message,
    Platform,
    PlatformError,
    territories_of,
)


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise ValueError("An action needs a reason: it is recorded and shown to the user.")
    return reason.strip()


def _check_until(until: datetime | None) -> None:
    if until is not None and (until.tzinfo is None or until <= datetime.now(UTC)):
        raise ValueError("'until' must be an aware time in the future.")


NO_VISIBILITY_CONTROL = (
    "Matrix has no per-viewer visibility or geo-blocking: the homeserver delivers every event of a "
    "room to every member's client and federates it to their servers, so a message cannot be hidden "
    "from some viewers or countries. Remove (redact) it instead, or act on the account or room."
)
NO_REOPENING = (
    "A Synapse room shutdown removed every member, the room's admins included, and blocked the room; "
    "nobody is left who could invite them back. Create a new room on the platform by hand."
)


class MatrixPlatform(Platform):
    name = "matrix"
    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, *, admin: SynapseAdmin, bot_user_id: str, server_name: str) -> None:
        self.admin = admin
        self.bot_user_id = bot_user_id
        self.server_name = server_name

    @classmethod
    def from_settings(cls, settings: Settings) -> MatrixPlatform:
        """The adapter of `platform = matrix`; refuses to start half-configured."""
        needed = {
            "TRUSTDESK_MATRIX_HOMESERVER_URL": settings.matrix_homeserver_url,
            "TRUSTDESK_MATRIX_SERVER_NAME": settings.matrix_server_name,
            "TRUSTDESK_MATRIX_BOT_USER_ID": settings.matrix_bot_user_id,
            "TRUSTDESK_MATRIX_BOT_TOKEN": settings.matrix_bot_token,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ValueError(f"platform = matrix needs {', '.join(missing)}")
        assert (
            settings.matrix_homeserver_url
            and settings.matrix_bot_token
            and settings.matrix_bot_user_id
            and settings.matrix_server_name
        )
        admin = SynapseAdmin(base_url=settings.matrix_homeserver_url, token=settings.matrix_bot_token.get_secret_value())
        return cls(admin=admin, bot_user_id=settings.matrix_bot_user_id, server_name=settings.matrix_server_name)

    # -- lookups ------------------------------------------------------------------------------

    def get_account(self, account_id: str) -> Account:
        return to_account(self.admin.user(account_id))

    def find_account(self, *, username: str | None = None, phone: str | None = None) -> Account | None:
        user_id = None
        if username is not None:
            local = username.strip().lstrip("@").split(":", 1)[0].lower()
            user_id = f"@{local}:{self.server_name}" if local else None
        elif phone is not None:
            digits = "".join(ch for ch in phone if ch.isdigit())
            user_id = self.admin.user_by_threepid("msisdn", digits.removeprefix("00")) if digits else None
        if user_id is None:
            return None
        try:
            return self.get_account(user_id)
        except LookupError:
            return None

    def get_chat(self, chat_id: str) -> Chat:
        room = self.admin.room(chat_id)
        blocked = self.admin.call("GET", f"/_synapse/admin/v1/rooms/{q(chat_id)}/block").get("block", False)
        return Chat(
            id=chat_id,
            kind=self._kind(room),
            title=room.get("name") or chat_id,
            member_ids=tuple(self.admin.room_members(chat_id)),
            closed=bool(blocked),
        )

    def _kind(self, room: dict[str, Any]) -> ChatKind:
        if room.get("encryption"):
            return ChatKind.SECRET
        if room.get("join_rules") == "public":
            return ChatKind.CHANNEL
        state = self.admin.room_state(room["room_id"])
        direct = any(e["type"] == "m.room.member" and e["content"].get("is_direct") for e in state)
        return ChatKind.DIRECT if direct else ChatKind.GROUP

    def get_message(self, message_id: str) -> Message:
        if not message_id.startswith("$"):
            raise LookupError(f"Synapse has no event {message_id}")
        return to_message(self._client_view(message_id), media=self._media_of)

    def _client_view(self, event_id: str) -> dict[str, Any]:
        """The event as room members see it (redacted when redacted). fetch_event answers
        the raw, unredacted event, so it only tells the room."""
        room_id = self.admin.event(event_id)["room_id"]
        return self.admin.context(room_id, event_id, limit=0)["event"]

    def _media_of(self, event: dict[str, Any]) -> tuple[MediaItem, ...]:
        url = event.get("content", {}).get("url")
        if not isinstance(url, str) or not url.startswith("mxc://"):
            return ()
        item, _ = self.get_media(url.removeprefix("mxc://"), message_id=event["event_id"])
        return (item,)

    def get_media(self, media_id: str, *, message_id: str | None = None) -> tuple[MediaItem, bytes]:
        import hashlib

        server, _, local = media_id.partition("/")
        if not server or not local:
            raise LookupError(f"Synapse has no media {media_id}")
        info = self.admin.call("GET", f"/_synapse/admin/v1/media/{q(server)}/{q(local)}", missing=f"media {media_id}")[
            "media_info"
        ]
        data = self.admin.media(server, local)
        item = MediaItem(
            id=media_id,
            content_type=info.get("media_type") or "application/octet-stream",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            message_id=message_id,
        )
        return item, data

    def list_messages(
        self, account_id: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 1000
    ) -> list[Message]:
        self.admin.user(account_id)  # LookupError for an unknown account
        events = [e for room in self.admin.joined_rooms(account_id) for e in self.admin.messages(room, sender=account_id)]
        messages = [to_message(e, media=self._media_of) for e in events if e["type"] in MESSAGE_TYPES]
        kept = [m for m in messages if (since is None or m.sent_at >= since) and (until is None or m.sent_at < until)]
        return sorted(kept, key=lambda m: m.sent_at)[:limit]

    def chat_context(self, message_id: str, *, before: int = 5, after: int = 5) -> list[Message]:
        target = self._client_view(message_id)
        found = self.admin.context(target["room_id"], message_id, limit=4 * (before + after) + 20)
        older = [e for e in reversed(found.get("events_before", [])) if e["type"] in MESSAGE_TYPES]
        newer = [e for e in found.get("events_after", []) if e["type"] in MESSAGE_TYPES]
        chosen = (older[-before:] if before else []) + [target] + newer[:after]
        return [to_message(e, media=self._media_of) for e in chosen]

    # -- actions on messages --------------------------------------------------------------------

    def remove_message(self, message_id: str, *, reason: str) -> ActionResult:
        why = _reason(reason)
        event = self._client_view(message_id)
        already = event.get("unsigned", {}).get("redacted_because")
        if already:
            return ActionResult(ok=True, detail="already removed", platform_ref=already["event_id"])
        try:
            redaction = self.admin.redact(event["room_id"], message_id, reason=why)
        except PlatformError:
            # The bot is not in the room or lacks power there: make it room admin, then redact.
            # make_room_admin grants the bot power and invites it; then it joins.
            self.admin.make_room_admin(event["room_id"], self.bot_user_id)
            self.admin.call("POST", f"/_matrix/client/v3/join/{q(event['room_id'])}", json={})
            redaction = self.admin.redact(event["room_id"], message_id, reason=why)
        quarantined = self._quarantine(event)
        detail = "redacted" + (f"; media quarantined: {', '.join(quarantined)}" if quarantined else "")
        return ActionResult(ok=True, detail=detail, platform_ref=redaction)

    def _quarantine(self, event: dict[str, Any]) -> list[str]:
        url = event.get("content", {}).get("url")
        if not isinstance(url, str) or not url.startswith("mxc://"):
            return []
        media = url.removeprefix("mxc://")
        self.quarantine_media(media)
        return [media]

    def quarantine_media(self, media_id: str) -> ActionResult:
        server, _, local = media_id.partition("/")
        self.admin.call("POST", f"/_synapse/admin/v1/media/quarantine/{q(server)}/{q(local)}", missing=f"media {media_id}")
        return ActionResult(ok=True, detail="quarantined", platform_ref=f"quarantine:{media_id}")

    def restore_message(self, message_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        self.admin.event(message_id)
        return ActionResult(
            ok=False,
            detail="Matrix redactions are final: the content is gone from every "
            "server; restore by re-posting from preserved evidence.",
        )

    def restrict_message(
        self, message_id: str, *, reason: str, territories: frozenset[str] | None = None, until: datetime | None = None
    ) -> ActionResult:
        _reason(reason)
        _check_until(until)
        territories_of(territories)
        self.admin.event(message_id)  # LookupError for an unknown event, as everywhere
        return ActionResult(ok=False, detail=NO_VISIBILITY_CONTROL)

    def lift_message_restriction(self, message_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        self.admin.event(message_id)
        return ActionResult(ok=False, detail=f"Nothing to lift. {NO_VISIBILITY_CONTROL}")

    # -- actions on accounts and rooms ----------------------------------------------------------

    def _account_action(self, account_id: str, *, state: AccountState, ref: str, apply: Any) -> ActionResult:
        current = self.get_account(account_id).state
        if current is state:
            return ActionResult(ok=True, detail=f"already {state}", platform_ref=ref)
        if current is AccountState.DEACTIVATED:
            return ActionResult(ok=False, detail="the account is deactivated")
        apply()
        return ActionResult(ok=True, detail=str(state), platform_ref=ref)

    def restrict_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        _reason(reason)
        _check_until(until)
        return self._account_action(
            account_id,
            state=AccountState.RESTRICTED,
            ref=f"suspend:{account_id}",
            apply=lambda: self.admin.call("PUT", f"/_synapse/admin/v1/suspend/{q(account_id)}", json={"suspend": True}),
        )

    def suspend_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        _reason(reason)
        _check_until(until)
        return self._account_action(
            account_id,
            state=AccountState.SUSPENDED,
            ref=f"lock:{account_id}",
            apply=lambda: self.admin.call("PUT", f"/_synapse/admin/v2/users/{q(account_id)}", json={"locked": True}),
        )

    def shadow_ban(self, account_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        self.admin.call("POST", f"/_synapse/admin/v1/users/{q(account_id)}/shadow_ban", missing=f"user {account_id}")
        return ActionResult(ok=True, detail="shadow-banned", platform_ref=f"shadow_ban:{account_id}")

    def deactivate_account(self, account_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        return self._account_action(
            account_id,
            state=AccountState.DEACTIVATED,
            ref=f"deactivate:{account_id}",
            apply=lambda: self.admin.call("POST", f"/_synapse/admin/v1/deactivate/{q(account_id)}", json={"erase": False}),
        )

    def reinstate_account(self, account_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        user = self.admin.user(account_id)
        state = to_account(user).state
        if state in (AccountState.ACTIVE, AccountState.DEACTIVATED):
            return ActionResult(ok=False, detail=f"the account is {state}: nothing to lift")
        path = f"/_synapse/admin/v2/users/{q(account_id)}"
        if user.get("locked"):
            self.admin.call("PUT", path, json={"locked": False})
        if user.get("suspended"):
            self.admin.call("PUT", f"/_synapse/admin/v1/suspend/{q(account_id)}", json={"suspend": False})
        if user.get("shadow_banned"):
            self.admin.call("DELETE", f"/_synapse/admin/v1/users/{q(account_id)}/shadow_ban")
        return ActionResult(ok=True, detail="reinstated", platform_ref=f"reinstate:{account_id}")

    def close_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        why = _reason(reason)
        if self.get_chat(chat_id).closed:
            return ActionResult(ok=True, detail="already shut down", platform_ref=f"shutdown:{chat_id}")
        self.admin.call("DELETE", f"/_synapse/admin/v1/rooms/{q(chat_id)}", json={"block": True, "purge": False, "message": why})
        return ActionResult(ok=True, detail="room shut down and blocked; history kept", platform_ref=f"shutdown:{chat_id}")

    def reopen_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        _reason(reason)
        self.admin.room(chat_id)  # LookupError for an unknown room
        return ActionResult(ok=False, detail=NO_REOPENING)

    # -- data held ------------------------------------------------------------------------------

    def categories_held(self, chat_kind: ChatKind) -> frozenset[DataCategory]:
        if chat_kind is ChatKind.SECRET:
            return frozenset(DataCategory) - {DataCategory.CONTENT}
        return frozenset(DataCategory)

    def retrieve(
        self, account_id: str, category: DataCategory, *, since: datetime | None = None, until: datetime | None = None
    ) -> HeldData:
        return retrieve_held(self, account_id, category, since=since, until=until)

    def is_encrypted_room(self, room_id: str) -> bool:
        return bool(self.admin.room(room_id).get("encryption"))
