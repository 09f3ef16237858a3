"""A success status means the change is stored: the request's transaction commits before the
response leaves, and a commit that fails becomes a 5xx (a problem document on the API, the
error page in the console) with nothing changed. Read-your-writes after a redirect follows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.safety.review.factories import cast, platform  # noqa: F401
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Role
from trustdesk.safety.reports.models import Notice

NOTICE = {
    "reason": "drugs_weapons",
    "subject_kind": "message",
    "explanation": "Sells drugs.",
    "good_faith": True,
    "notifier_name": "Tom",
    "notifier_email": "tom@example.de",
}


class CommitFails:
    """Makes the next commit of a request's session fail, as a lost connection or a
    serialisation failure at COMMIT would."""

    def __init__(self) -> None:
        self.armed = False
        self.fired = 0

    def __call__(self, session: Session) -> None:
        if self.armed and not session.in_nested_transaction():  # the request's COMMIT, not a savepoint
            self.armed, self.fired = False, self.fired + 1
            raise RuntimeError("the database went away at COMMIT")


@pytest.fixture
def commit_fails(db) -> Iterator[CommitFails]:  # type: ignore[no-untyped-def]
    hook = CommitFails()  # Trustdesk's own sessions only, not the demo platform's
    event.listen(db.session_factory, "before_commit", hook)
    yield hook
    event.remove(db.session_factory, "before_commit", hook)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_failed_commit_is_a_5xx_problem_and_stores_nothing(client, db, cast, commit_fails) -> None:  # noqa: F811
    before = _count(db, Notice)
    commit_fails.armed = True
    response = client.post("/api/v1/notices", json={**NOTICE, "subject_id": cast.messages["drug_ad"]})
    assert commit_fails.fired == 1
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/not-stored") and "nothing was changed" in response.json()["detail"]
    assert _count(db, Notice) == before


def test_a_created_notice_is_readable_at_once(client, cast) -> None:  # noqa: F811
    receipt = client.post("/api/v1/notices", json={**NOTICE, "subject_id": cast.messages["drug_ad"]})
    assert receipt.status_code == 201
    assert client.get(f"/api/v1/notices/{receipt.json()['token']}").status_code == 200


def test_a_failed_commit_in_the_console_is_the_error_page(client, db, staff, commit_fails) -> None:
    admin = staff.create(Role.ADMIN)
    csrf = staff.sign_in(client, admin)
    commit_fails.armed = True
    response = client.post(
        "/console/users",
        headers={"X-CSRF-Token": csrf},
        data={
            "username": "newcomer",
            "display_name": "New Comer",
            "email": "new@example.org",
            "password": "a long enough password 123",
            "roles": ["reviewer"],
        },
    )
    assert commit_fails.fired == 1
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html") and "Created newcomer" not in response.text
    with db.transaction() as session:
        assert session.scalar(select(StaffUser).where(StaffUser.username == "newcomer")) is None
