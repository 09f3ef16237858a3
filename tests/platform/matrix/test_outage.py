"""Trustdesk down: Synapse does what `on_unreachable` says, and nothing is lost once Trustdesk
is back (the spool delivers; messages let through unchecked are screened and removed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nio import RoomSendError, RoomSendResponse
from sqlalchemy import select

from tests.platform.matrix.conftest import (
    BLOCKED_TERM,
    PASSWORD,
    MatrixUser,
    eventually,
    make_trustdesk,
    module_config,
)
from tests.platform.matrix.synapse_server import SynapseServer
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.admin import SynapseAdmin
from trustdesk.platform.matrix.models import MatrixEvent
from trustdesk.platform.port import MessageState


def _run(tmp_path_factory: pytest.TempPathFactory, url: str, on_unreachable: str):  # type: ignore[no-untyped-def]
    trustdesk = make_trustdesk(url, tmp_path_factory.mktemp("td"))  # made, not started: it is down
    data = tmp_path_factory.mktemp("synapse")
    synapse = SynapseServer(data, module_config=module_config(trustdesk, data, on_unreachable=on_unreachable))
    synapse.start()
    return trustdesk, synapse


def test_fail_closed_refuses_sends_while_trustdesk_is_down(
    fresh_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    trustdesk, synapse = _run(tmp_path_factory, fresh_database_url("closed"), "reject")
    try:
        alice = MatrixUser(synapse, "alice")
        room = alice.create_room()
        refused = alice.send(room, "an ordinary message")
        assert isinstance(refused, RoomSendError) and refused.status_code == "M_FORBIDDEN"
        trustdesk.start()
        assert isinstance(alice.send(room, "an ordinary message"), RoomSendResponse)
        alice.close()
    finally:
        synapse.stop()
        trustdesk.stop()
        trustdesk.container.db.dispose()


def test_fail_open_lets_sends_through_and_screens_them_once_trustdesk_is_back(
    fresh_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    trustdesk, synapse = _run(tmp_path_factory, fresh_database_url("open"), "allow")
    try:
        alice = MatrixUser(synapse, "alice")
        room = alice.create_room()
        harmless = alice.send(room, "hello while you were out")
        harmful = alice.send(room, f"{BLOCKED_TERM} cheap")
        assert isinstance(harmless, RoomSendResponse) and isinstance(harmful, RoomSendResponse)
        bot = synapse.register("trustdesk-bot", PASSWORD, admin=True)
        platform = MatrixPlatform(
            admin=SynapseAdmin(base_url=synapse.url, token=bot),
            bot_user_id=synapse.user_id("trustdesk-bot"),
            server_name="trustdesk.test",
        )
        trustdesk.container.platform = platform
        trustdesk.start()

        def stored() -> list[str]:
            with trustdesk.container.db.transaction() as session:
                return list(session.scalars(select(MatrixEvent.event_id).where(MatrixEvent.unchecked.is_(True))))

        assert eventually(lambda: {harmless.event_id, harmful.event_id} <= set(stored()))
        assert eventually(lambda: platform.get_message(harmful.event_id).state is MessageState.REMOVED)
        assert platform.get_message(harmless.event_id).state is MessageState.VISIBLE
        alice.close()
    finally:
        synapse.stop()
        trustdesk.stop()
        trustdesk.container.db.dispose()
