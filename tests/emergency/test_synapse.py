"""A TCO removal order against a real Synapse: filed through the API by a police agency,
the message is gone for the other user (a real Matrix client sees the redaction), the
authority is told, the content is preserved."""

from __future__ import annotations

import pytest
from nio import RoomMessagesResponse, RoomSendResponse

from tests.emergency.synapse_tco import confirm_by_callback, file_order, police_agency
from tests.platform.matrix.conftest import MatrixWorld, _synapse_installed, eventually, matrix  # noqa: F401 - fixtures
from trustdesk.emergency import preservation, removal
from trustdesk.emergency.models import RemovalState

pytestmark = pytest.mark.synapse


def _redacted_for(reader, room_id: str, event_id: str) -> bool:
    response = reader.run(reader.client.room_messages(room_id, start="", limit=50))
    assert isinstance(response, RoomMessagesResponse), response
    event = next((e for e in response.chunk if e.event_id == event_id), None)
    return event is not None and not event.source.get("content")


def test_a_tco_order_removes_the_message_for_everyone(matrix: MatrixWorld) -> None:  # noqa: F811 - the fixture
    poster, reader = matrix.user("poster_tco"), matrix.user("reader_tco")
    room = poster.create_room(invite=(reader.user_id,), name="tco")
    reader.join(room)
    first, second = poster.send(room, "first call to attack"), poster.send(room, "second call to attack")
    assert isinstance(first, RoomSendResponse) and isinstance(second, RoomSendResponse)
    container = matrix.trustdesk.container
    agency = police_agency(container, code="ofac-e2e")
    held = file_order(matrix.trustdesk.url, agency.token, first.event_id)
    assert held.status_code == 201, held.text
    assert not _redacted_for(reader, room, first.event_id), "a first-time agency's order waits for its call-back"
    confirm_by_callback(container, held.json()["request"]["id"])  # the lane removes it as soon as this commits
    trusted = file_order(matrix.trustdesk.url, agency.token, second.event_id)
    assert trusted.status_code == 201, trusted.text
    eventually(lambda: _redacted_for(reader, room, first.event_id) and _redacted_for(reader, room, second.event_id))
    request_id = trusted.json()["request"]["id"]

    def recorded() -> bool:  # the redaction is visible a moment before the lane's transaction commits
        with container.db.transaction() as session:
            done = removal.removal_for(session, request_id=request_id)
            return done is not None and done.authority_told_at is not None

    eventually(recorded)
    with container.db.transaction() as session:
        done = removal.removal_for(session, request_id=request_id)
        assert done is not None and done.state == RemovalState.AUTO_REMOVED
        kept = preservation.contents_of(session, removal_id=done.id)
        assert kept[0].snapshot["message"]["text"] == "second call to attack"
