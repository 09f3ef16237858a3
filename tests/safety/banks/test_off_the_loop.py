"""Hashing an upload never holds up other requests: while one upload is being hashed (here a
hasher that waits for the test to let it go), /healthz and a lookup are answered; and no more
uploads are hashed at once than the CPU pool has threads. Requests run at the same time
here, so the tests use a database of their own (tests/concurrency.py)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.concurrency import Blocked, db, in_background, staff, wait_s  # noqa: F401
from tests.waiting import wait_until
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Permission
from trustdesk.core.settings import Settings
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.banks import lookup
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.signals.hashing import hash_media

PDQ = "f" * 64
ALL = (Permission.BANKS_MANAGE, Permission.MATCH_LOOKUP, Permission.SAFETY_READ, Permission.EVENTS_INGEST)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[Blocked]:
    blocked = Blocked(hash_media)
    monkeypatch.setattr(lookup, "hash_media", blocked)
    yield blocked
    blocked.release.set()


@pytest.fixture
def settings(settings: Settings, db: Database) -> Settings:  # noqa: F811
    return settings.model_copy(update={"cpu_workers": 1})


@pytest.fixture
def api(client: TestClient, staff) -> TestClient:  # type: ignore[no-untyped-def]  # noqa: F811
    client.headers["Authorization"] = f"Bearer {staff.token(*ALL)}"
    return client


UPLOADS = {
    "hash": lambda api, media: api.post("/api/v1/match/hash", files={"file": ("a.jpg", imagery.cat()[1], "image/jpeg")}),
    "lookup a file": lambda api, media: api.post(
        "/api/v1/match/lookup", files={"file": ("a.jpg", imagery.cat()[1], "image/jpeg")}
    ),
    "lookup a platform media id": lambda api, media: api.post("/api/v1/match/lookup", data={"media_id": media["cat"]}),
    "check a Matrix upload": lambda api, media: api.post("/api/v1/connector/matrix/media-check", json=_matrix_upload("one")),
}


def _matrix_upload(media_id: str) -> dict[str, object]:
    data = imagery.cat()[1]
    return {
        "media_id": media_id,
        "server_name": "example.org",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "data_b64": base64.b64encode(data).decode(),
    }


@pytest.mark.parametrize("upload", UPLOADS.values(), ids=UPLOADS.keys())
def test_health_and_a_lookup_are_answered_while_an_upload_is_being_hashed(
    api: TestClient, platform, hasher: Blocked, upload
) -> None:  # type: ignore[no-untyped-def]
    media = seed_demo(platform).media
    uploading, uploaded = in_background(lambda: upload(api, media))
    assert hasher.entered.acquire(timeout=wait_s())
    checking, health = in_background(lambda: api.get("/healthz"))
    checking.join(wait_s())  # before the fix the hash ran on the event loop: /healthz waited for it
    assert hasher.left == 0 and health and health[0].status_code == 200
    looking, raw = in_background(lambda: api.get("/api/v1/match/raw", params={"signal_type": "pdq", "value": PDQ}))
    looking.join(wait_s())  # before the fix the upload's transaction held SQLite's write lock while it hashed
    assert hasher.left == 0 and raw and raw[0].status_code == 200, raw and raw[0].text
    hasher.release.set()
    uploading.join(wait_s())
    assert uploaded[0].status_code == 200, uploaded[0].text
    answer = uploaded[0].json()
    assert answer.get("pdq") or answer.get("hashes", {}).get("pdq") or answer.get("verdict") == "allow", answer


@pytest.mark.parametrize("path", ["/api/v1/match/hash", "/console/safety/banks/lookup"])
def test_no_more_uploads_are_hashed_at_once_than_the_pool_has_threads(
    client: TestClient, container, staff, hasher: Blocked, path: str
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client.headers["Authorization"] = f"Bearer {staff.token(*ALL)}"
    post = lambda: client.post(path, files={"file": ("a.jpg", imagery.cat()[1], "image/jpeg")})  # noqa: E731
    first, _ = in_background(post)
    assert hasher.entered.acquire(timeout=wait_s())
    second, answers = in_background(post)
    wait_until(
        lambda: container.cpu.queued or hasher.inside > 1, what="the second upload queued or hashing"
    )  # before the fix: hashing
    assert (hasher.inside, hasher.left, container.cpu.queued) == (1, 0, 1)
    hasher.release.set()
    first.join(wait_s())
    second.join(wait_s())
    assert hasher.inside == 2 and answers[0].status_code == 200, answers[0].text


def test_no_more_matrix_uploads_are_hashed_at_once_than_the_pool_has_threads(
    client: TestClient,
    container,
    db: Database,
    staff,  # noqa: F811
    hasher: Blocked,
) -> None:  # type: ignore[no-untyped-def]
    # before the fix, on SQLite: the first check hashed inside its transaction, the second waited for the write lock
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.EVENTS_INGEST)}"
    first, _ = in_background(lambda: client.post("/api/v1/connector/matrix/media-check", json=_matrix_upload("one")))
    assert hasher.entered.acquire(timeout=wait_s())
    second, answers = in_background(lambda: client.post("/api/v1/connector/matrix/media-check", json=_matrix_upload("two")))
    wait_until(
        lambda: container.cpu.queued or hasher.inside > 1, what="the second check queued or hashing"
    )  # before the fix: hashing
    assert (hasher.inside, hasher.left, container.cpu.queued) == (1, 0, 1)
    hasher.release.set()
    first.join(wait_s())
    second.join(wait_s())
    assert hasher.inside == 2 and answers[0].status_code == 200, answers[0].text


def test_the_matcher_takes_the_database_lock_before_its_own(db: Database) -> None:  # noqa: F811
    """An upload's session is still unused when it reaches the matcher. Taking the matcher's
    lock first and then SQLite's (BEGIN IMMEDIATE) deadlocks against a request that holds
    SQLite's and waits for the matcher's, until the busy timeout fails one of them."""
    matcher = MatchService(max_entries=1000, refresh_seconds=0)
    with db.transaction() as session:
        matcher.load(session)
    order: list[str] = []
    lock = matcher._lock

    class Watched:
        def __enter__(self) -> None:
            order.append("matcher")
            lock.acquire()

        def __exit__(self, *_: object) -> None:
            lock.release()

    def began(_: object) -> None:
        order.append("database")

    matcher._lock = Watched()  # type: ignore[assignment]
    event.listen(db.engine, "begin", began)
    try:
        with db.transaction() as session:
            matcher.refresh(session)
    finally:
        event.remove(db.engine, "begin", began)
    assert order == ["database", "matcher"]
