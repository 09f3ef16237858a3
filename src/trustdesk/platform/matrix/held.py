"""Data retrieval for disclosures: what Synapse holds on one account, per category.

Encrypted rooms hold no readable content: their messages appear in traffic data (who, when,
where) but never in content, and a content request about them is answered "not held"."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from trustdesk.platform.port import DataCategory, HeldData

if TYPE_CHECKING:
    from trustdesk.platform.matrix.adapter import MatrixPlatform

ENCRYPTED_NOTE = (
    "Messages in end-to-end encrypted rooms are not held in readable form: "
    "the server stores only ciphertext (secret chats), so their content is left out."
)


def retrieve_held(
    platform: MatrixPlatform, account_id: str, category: DataCategory, *, since: datetime | None, until: datetime | None
) -> HeldData:
    account = platform.get_account(account_id)  # LookupError for an unknown account
    if category is DataCategory.SUBSCRIBER:
        record: dict[str, object] = {
            "user_id": account.id,
            "username": account.username,
            "display_name": account.display_name,
            "phone": account.phone,
            "email": account.email,
            "created_at": account.created_at.isoformat(),
            "state": str(account.state),
        }
        account_data: dict[str, object] = {"account_data": platform.admin.account_data(account_id)}
        return HeldData(category=category, held=True, records=[record, account_data])
    if category is DataCategory.IDENTIFICATION:
        return _identification(platform, account_id)
    messages = platform.list_messages(account_id, since=since, until=until)
    if category is DataCategory.TRAFFIC:
        return HeldData(
            category=category,
            held=True,
            records=[{"message_id": m.id, "chat_id": m.chat_id, "sent_at": m.sent_at.isoformat()} for m in messages],
        )
    encrypted = {m.chat_id for m in messages if platform.is_encrypted_room(m.chat_id)}
    records: list[dict[str, object]] = [
        {"message_id": m.id, "chat_id": m.chat_id, "sent_at": m.sent_at.isoformat(), "text": m.text}
        for m in messages
        if m.chat_id not in encrypted
    ]
    return HeldData(category=category, held=True, records=records, note=ENCRYPTED_NOTE if encrypted else "")


def retrieve_room_content(platform: MatrixPlatform, account_id: str, room_id: str) -> HeldData:
    """Content of one account in one room: not held when the room is encrypted."""
    if platform.is_encrypted_room(room_id):
        return HeldData(category=DataCategory.CONTENT, held=False, note=ENCRYPTED_NOTE)
    messages = [m for m in platform.list_messages(account_id) if m.chat_id == room_id]
    return HeldData(
        category=DataCategory.CONTENT,
        held=True,
        records=[{"message_id": m.id, "sent_at": m.sent_at.isoformat(), "text": m.text} for m in messages],
    )


def _identification(platform: MatrixPlatform, account_id: str) -> HeldData:
    """Sessions and addresses from whois. Synapse records the address and last-seen time of
    each connection but not the source port, which is reported as None."""
    whois = platform.admin.whois(account_id)
    records = [
        {
            "device_id": device_id,
            "ip": conn.get("ip"),
            "port": None,
            "user_agent": conn.get("user_agent"),
            "at": conn.get("last_seen"),
        }
        for device_id, device in (whois.get("devices") or {}).items()
        for session in device.get("sessions", [])
        for conn in session.get("connections", [])
    ]
    return HeldData(
        category=DataCategory.IDENTIFICATION, held=bool(records), records=records, note="Synapse does not record source ports."
    )
