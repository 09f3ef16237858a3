"""Builders of demo-platform data for tests, through the platform's own posting helper."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.platform.contract import ContractWorld
from trustdesk.platform.demo import DemoPlatform
from trustdesk.platform.port import ChatKind

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"test-image-bytes"


def build_contract_world(platform: DemoPlatform, *, now: datetime) -> ContractWorld:
    """Six group messages an hour apart ending two hours before `now`, one secret message."""
    post = platform.posting
    alice = post.create_account(username="Alice_Test", display_name="Alice", phone="+49 151 2345 0001", country="DE")
    bob = post.create_account(username="bob_test", display_name="Bob", phone="+33 6 12 00 00 02", country="FR")
    group = post.create_chat(kind=ChatKind.GROUP, title="Test group", member_ids=[alice.id, bob.id])
    secret = post.create_chat(kind=ChatKind.SECRET, title="", member_ids=[alice.id, bob.id])
    start = now - timedelta(hours=8)
    ids = []
    for hour in range(6):
        media = [("image/png", PNG_BYTES)] if hour == 1 else None
        message = post.post_message(
            chat_id=group.id,
            sender_id=alice.id,
            text=f"group message {hour}",
            media=media,
            sent_at=start + timedelta(hours=hour),
        )
        ids.append(message.id)
    secret_message = post.post_message(
        chat_id=secret.id, sender_id=alice.id, text="only bob may read this", sent_at=start + timedelta(minutes=30)
    )
    post.record_login(account_id=alice.id, ip="2001:db8::1", port=50123, user_agent="test", at=start)
    return ContractWorld(
        account_id=alice.id,
        username="Alice_Test",
        phone="+4915123450001",
        other_account_id=bob.id,
        group_chat_id=group.id,
        group_message_ids=tuple(ids),
        media_id=platform.get_message(ids[1]).media[0].id,
        secret_chat_id=secret.id,
        secret_message_id=secret_message.id,
    )
