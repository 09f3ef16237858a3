"""Retroaction on a real Synapse: an image already posted in a room is redacted for the other
user once a bank the automation policy allows (`tco_verified`) gains the PDQ of a
near-duplicate through the banks API; the removal has its statement of reasons and its
review case. An unrelated image in the same room stays."""

from __future__ import annotations

import httpx
import pytest
from nio import RoomMessagesResponse, RoomSendResponse, UploadResponse
from sqlalchemy import select

from tests.conftest import TEST_ACTOR, TEST_GRANTOR
from tests.platform.matrix.conftest import MatrixUser, MatrixWorld, eventually
from tests.waiting import patience
from trustdesk.core.clock import SystemClock
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission
from trustdesk.platform.demo import imagery
from trustdesk.safety.banks.models import MediaHash
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.review.models import Case
from trustdesk.safety.signals.hashing import hash_media

pytestmark = pytest.mark.synapse


def _event_for(reader: MatrixUser, room_id: str, event_id: str) -> dict | None:
    response = reader.run(reader.client.room_messages(room_id, start="", limit=50))
    assert isinstance(response, RoomMessagesResponse), response
    event = next((e for e in response.chunk if e.event_id == event_id), None)
    return None if event is None else event.source


def _post_image(user: MatrixUser, room: str, data: bytes, content_type: str) -> str:
    uploaded = user.upload(data, content_type=content_type)
    assert isinstance(uploaded, UploadResponse), uploaded
    sent = user.send_image(room, uploaded.content_uri, len(data))
    assert isinstance(sent, RoomSendResponse), sent
    return sent.event_id


def _linked(matrix: MatrixWorld, event_id: str) -> MediaHash | None:
    with matrix.trustdesk.container.db.transaction() as session:
        return session.scalars(select(MediaHash).where(MediaHash.message_id == event_id)).first()


def _token(matrix: MatrixWorld) -> str:
    with matrix.trustdesk.container.db.transaction() as session:
        token, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=SystemClock(),
            grantor=TEST_GRANTOR,
            name="bank-curator",
            scopes=[Permission.BANKS_MANAGE, Permission.SAFETY_READ],
            days=1,
        )
    return token


def test_a_bank_update_redacts_an_image_already_posted(matrix: MatrixWorld) -> None:
    poster, reader = matrix.user("poster_bank"), matrix.user("reader_bank")
    room = poster.create_room(invite=(reader.user_id,), name="banks")
    reader.join(room)
    propaganda = _post_image(poster, room, imagery.poster_original()[1], "image/png")
    harmless = _post_image(poster, room, imagery.cat()[1], "image/png")
    seen = eventually(lambda: _event_for(reader, room, propaganda))
    assert seen["content"]["msgtype"] == "m.image"
    eventually(lambda: _linked(matrix, propaganda) and _linked(matrix, harmless))  # hashed at upload, linked when streamed

    headers = {"Authorization": f"Bearer {_token(matrix)}"}
    url = matrix.trustdesk.url + "/api/v1/banks"
    bank = httpx.post(url, json={"name": "tco_verified", "policy": "terrorism"}, headers=headers, timeout=patience(30))
    assert bank.status_code == 201, bank.text
    near_duplicate = hash_media(imagery.poster_resized()[1]).pdq
    added = httpx.post(
        f"{url}/{bank.json()['id']}/entries",
        headers=headers,
        timeout=patience(60),
        json={"entries": [{"signal_type": "pdq", "value": near_duplicate, "notes": "shared by a partner"}]},
    )
    assert added.status_code == 201, added.text
    assert added.json()["retroaction"]["removed"] == 1

    eventually(lambda: not (_event_for(reader, room, propaganda) or {"content": {"x": 1}})["content"])
    assert _event_for(reader, room, harmless)["content"]["msgtype"] == "m.image"
    with matrix.trustdesk.container.db.transaction() as session:
        action = session.scalars(select(EnforcementAction).where(EnforcementAction.subject_id == propaganda)).one()
        assert action.automated and action.source == "hash_match" and action.platform_ok and action.account_id == poster.user_id
        assert session.scalars(select(StatementOfReasons).where(StatementOfReasons.action_id == action.id)).one()
        case = session.scalars(select(Case).where(Case.source == "hash_match", Case.state == "open")).one()
        assert case.signals["automatic_removal"]["message_id"] == propaganda
