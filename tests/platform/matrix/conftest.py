"""A live Trustdesk (uvicorn in a thread) and a real Synapse with the Trustdesk module, shared
per test module, and Matrix users played by matrix-nio."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from nio import AsyncClient, RoomCreateResponse, RoomSendResponse, UploadResponse

from tests.conftest import TEST_ACTOR, TEST_GRANTOR
from tests.platform.matrix.synapse_server import SYNAPSE_PYTHON, SynapseServer, free_port
from tests.waiting import patience, wait_until
from trustdesk.core import migrate
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.admin import SynapseAdmin
from trustdesk.platform.matrix.screen import ListScreen
from trustdesk.safety.review import service as review
from trustdesk.web.app import create_app
from trustdesk.web.container import build_platform

PASSWORD = "matrix-test-password-1"
BLOCKED_TERM = "buy stolen cards"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/platform/matrix/" in str(item.fspath):
            item.add_marker(pytest.mark.synapse)


@pytest.fixture(scope="module", autouse=True)
def _synapse_installed() -> None:
    if not SYNAPSE_PYTHON.exists():
        pytest.fail(f"{SYNAPSE_PYTHON} is missing: run `make synapse` (its own virtualenv)")


@dataclass
class LiveTrustdesk:
    url: str
    port: int
    container: Container
    token: str
    screen: ListScreen
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.container.settings, container=self.container), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        server, thread = self.server, self.thread
        wait_until(lambda: server.started or not thread.is_alive(), what="Trustdesk starting")
        if not server.started:
            raise RuntimeError("Trustdesk stopped before it started")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            assert self.thread is not None
            self.thread.join(timeout=10)
        self.server = self.thread = None


def make_trustdesk(database_url: str, data_dir: Path) -> LiveTrustdesk:
    """A migrated database, an ingest token and an empty block list; not started yet."""
    migrate.upgrade(database_url)
    settings = load_settings(data_dir=data_dir, database_url=database_url, session_cookie_secure=False)
    db = Database.from_url(database_url)
    screen = ListScreen()
    screen.block_term(BLOCKED_TERM)
    container = Container(settings=settings, db=db, platform=build_platform(settings), clock=SystemClock(), content_screen=screen)
    with db.transaction() as session:
        review.ensure_queues(session, actor=TEST_ACTOR, clock=SystemClock())
        token, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=SystemClock(),
            grantor=TEST_GRANTOR,
            name="synapse-module",
            scopes=[Permission.EVENTS_INGEST],
            days=1,
        )
    port = free_port()
    return LiveTrustdesk(url=f"http://127.0.0.1:{port}", port=port, container=container, token=token, screen=screen)


def module_config(trustdesk: LiveTrustdesk, data: Path, *, on_unreachable: str = "allow") -> dict[str, Any]:
    return {
        "module": "trustdesk.platform.matrix.module.TrustdeskModule",
        "config": {
            "trustdesk_url": trustdesk.url,
            "token": trustdesk.token,
            "check_timeout_s": float(os.environ.get("TD_CHECK_TIMEOUT", patience(30))),
            "on_unreachable": on_unreachable,
            "spool_path": str(data / "spool.sqlite"),
            "flush_interval_s": 0.2,
        },
    }


class MatrixUser:
    """One person on Matrix, through matrix-nio (sync facade over its asyncio client)."""

    def __init__(self, synapse: SynapseServer, localpart: str) -> None:
        self.user_id = synapse.user_id(localpart)
        self.token = synapse.register(localpart, PASSWORD)
        self._loop = asyncio.new_event_loop()
        self.client = AsyncClient(synapse.url, self.user_id)
        self.client.access_token, self.client.user_id = self.token, self.user_id
        self._url = synapse.url

    def run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    def create_room(self, *, invite: tuple[str, ...] = (), encrypted: bool = False, name: str = "room") -> str:
        state = [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        response = self.run(self.client.room_create(name=name, invite=invite, initial_state=state if encrypted else ()))
        assert isinstance(response, RoomCreateResponse), response
        return response.room_id

    def join(self, room_id: str) -> None:
        self.run(self.client.join(room_id))

    def send(self, room_id: str, body: str) -> RoomSendResponse | Any:
        return self.run(self.client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body}))

    def send_ciphertext(self, room_id: str) -> RoomSendResponse | Any:
        content = {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEn...opaque",
            "sender_key": "k",
            "device_id": "DEV",
            "session_id": "s",
        }
        return self.run(self.client.room_send(room_id, "m.room.encrypted", content))

    def upload(self, data: bytes, content_type: str = "image/png") -> UploadResponse | Any:
        response, _ = self.run(
            self.client.upload(lambda *_: data, content_type=content_type, filename="picture.png", filesize=len(data))
        )
        return response

    def send_image(self, room_id: str, mxc: str, size: int) -> RoomSendResponse | Any:
        content = {"msgtype": "m.image", "body": "picture.png", "url": mxc, "info": {"mimetype": "image/png", "size": size}}
        return self.run(self.client.room_send(room_id, "m.room.message", content))

    def report(self, room_id: str, event_id: str, reason: str) -> httpx.Response:
        """nio has no report call: the same client-server request, with this user's token."""
        return httpx.post(
            f"{self._url}/_matrix/client/v3/rooms/{room_id}/report/{event_id}",
            timeout=patience(30),
            headers={"Authorization": f"Bearer {self.token}"},
            json={"reason": reason, "score": -100},
        )

    def close(self) -> None:
        self.run(self.client.close())
        self._loop.close()


@dataclass
class MatrixWorld:
    synapse: SynapseServer
    trustdesk: LiveTrustdesk
    platform: MatrixPlatform
    user: Callable[[str], MatrixUser]
    bot_token: str = ""  # the moderation bot's access token (platform = matrix settings)


@pytest.fixture(scope="module")
def matrix(fresh_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatrixWorld]:
    data = tmp_path_factory.mktemp("synapse")
    trustdesk = make_trustdesk(fresh_database_url("matrix"), tmp_path_factory.mktemp("td"))
    trustdesk.start()
    synapse = SynapseServer(data, module_config=module_config(trustdesk, data))
    users: list[MatrixUser] = []
    try:
        synapse.start()
        bot_token = synapse.register("trustdesk-bot", PASSWORD, admin=True)
        platform = MatrixPlatform(
            admin=SynapseAdmin(base_url=synapse.url, token=bot_token),
            bot_user_id=synapse.user_id("trustdesk-bot"),
            server_name="trustdesk.test",
        )
        trustdesk.container.platform = platform

        def user(localpart: str) -> MatrixUser:
            users.append(MatrixUser(synapse, localpart))
            return users[-1]

        yield MatrixWorld(synapse=synapse, trustdesk=trustdesk, platform=platform, user=user, bot_token=bot_token)
    finally:
        for u in users:
            u.close()
        synapse.stop()
        trustdesk.stop()
        trustdesk.container.db.dispose()


def eventually(check: Callable[[], Any], *, seconds: float = 60) -> Any:
    """Poll until `check` returns something truthy (event streaming is asynchronous)."""
    return wait_until(check, seconds=seconds, interval=0.1)
