"""The connector against a real Synapse, driven by a real Matrix client: what users see when
Trustdesk blocks a message or an upload, the event stream reaching Trustdesk, and an
encrypted room answered as not held (reports becoming review cases: test_reports.py)."""

from __future__ import annotations

import io

from nio import RoomSendError, RoomSendResponse, UploadError, UploadResponse
from PIL import Image
from sqlalchemy import select

from tests.platform.matrix.conftest import BLOCKED_TERM, MatrixWorld, eventually
from trustdesk.core.audit.models import AuditEntry
from trustdesk.platform.matrix.held import retrieve_room_content
from trustdesk.platform.matrix.models import MatrixEvent
from trustdesk.platform.port import DataCategory, MessageState


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _stored(matrix: MatrixWorld, event_id: str) -> MatrixEvent | None:
    with matrix.trustdesk.container.db.transaction() as session:
        return session.scalars(select(MatrixEvent).where(MatrixEvent.event_id == event_id)).first()


def test_a_blocked_message_is_refused_to_the_sender_and_never_stored(matrix: MatrixWorld) -> None:
    alice = matrix.user("alice_block")
    room = alice.create_room()
    refused = alice.send(room, f"Hey, {BLOCKED_TERM.upper()} here, DM me")
    assert isinstance(refused, RoomSendError) and refused.status_code == "M_FORBIDDEN"
    allowed = alice.send(room, "just a normal hello")
    assert isinstance(allowed, RoomSendResponse)
    texts = [m.text for m in matrix.platform.list_messages(alice.user_id)]
    assert texts == ["just a normal hello"]
    with matrix.trustdesk.container.db.transaction() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "matrix.block_message")).first()


def test_a_blocked_image_upload_is_refused_and_others_pass(matrix: MatrixWorld) -> None:
    alice = matrix.user("alice_media")
    bad, good = _png((200, 0, 0)), _png((0, 0, 200))
    matrix.trustdesk.screen.block_media(bad)
    assert isinstance(alice.upload(bad), UploadError)
    assert isinstance(alice.upload(good), UploadResponse)


def test_sent_messages_stream_into_trustdesk(matrix: MatrixWorld) -> None:
    alice = matrix.user("alice_stream")
    room = alice.create_room()
    sent = alice.send(room, "streamed hello")
    row = eventually(lambda: _stored(matrix, sent.event_id))
    assert (row.sender, row.room_id, row.content["body"], row.unchecked) == (alice.user_id, room, "streamed hello", False)


def test_removal_redacts_for_everyone_and_is_idempotent(matrix: MatrixWorld) -> None:
    alice, bob = matrix.user("alice_redact"), matrix.user("bob_redact")
    room = alice.create_room(invite=(bob.user_id,))
    bob.join(room)
    sent = bob.send(room, "remove me")
    first = matrix.platform.remove_message(sent.event_id, reason="test: illegal content")
    second = matrix.platform.remove_message(sent.event_id, reason="test: illegal content")
    assert first.ok and second.ok and second.platform_ref == first.platform_ref and "already" in second.detail
    assert matrix.platform.get_message(sent.event_id).state is MessageState.REMOVED


def test_disclosure_for_an_encrypted_room_answers_not_held(matrix: MatrixWorld) -> None:
    alice, bob = matrix.user("alice_secret"), matrix.user("bob_secret")
    secret = alice.create_room(invite=(bob.user_id,), encrypted=True)
    plain = alice.create_room(name="plain")
    cipher = alice.send_ciphertext(secret)
    hello = alice.send(plain, "plain words")
    assert isinstance(cipher, RoomSendResponse) and isinstance(hello, RoomSendResponse)
    not_held = retrieve_room_content(matrix.platform, alice.user_id, secret)
    assert not not_held.held and "encrypted" in not_held.note and not_held.records == []
    content = matrix.platform.retrieve(alice.user_id, DataCategory.CONTENT)
    assert [r["text"] for r in content.records] == ["plain words"] and "encrypted" in content.note
    traffic = matrix.platform.retrieve(alice.user_id, DataCategory.TRAFFIC)
    assert {cipher.event_id, hello.event_id} <= {r["message_id"] for r in traffic.records}
