"""A disclosure action in the console (decide, approve, package: database work, and for a
package the archive built and signed) never holds up other requests: while one is running
(here waiting for the test to let it go), /healthz is answered. Requests run at the same
time, so the tests use a database of their own (tests/concurrency.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.concurrency import Blocked, db, in_background, staff, wait_s  # noqa: F401
from trustdesk.core.identity.permissions import Permission
from trustdesk.legal.disclosure import notice


@pytest.fixture
def scheduling(monkeypatch: pytest.MonkeyPatch) -> Iterator[Blocked]:
    blocked = Blocked(notice.schedule)
    monkeypatch.setattr(notice, "schedule", blocked)
    yield blocked
    blocked.release.set()


def test_health_is_answered_while_a_console_action_runs(client: TestClient, staff, scheduling: Blocked) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.REQUESTS_READ)}"
    acting, acted = in_background(lambda: client.post("/console/legal/requests/1/notify", data={"note": "x"}))
    assert scheduling.entered.acquire(timeout=wait_s())
    checking, health = in_background(lambda: client.get("/healthz"))
    checking.join(wait_s())  # before the fix the action ran on the event loop: /healthz waited for it
    assert scheduling.left == 0 and health and health[0].status_code == 200
    scheduling.release.set()
    acting.join(wait_s())
    assert acted and acted[0].status_code in (404, 409)  # there is no request 1: the action is refused
