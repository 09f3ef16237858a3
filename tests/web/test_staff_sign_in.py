"""The staff sign-in at /login is no account-state oracle either (issue #14): a wrong
password, an unknown username, a disabled or a locked account get the same answer after the
same work; that an account is disabled is told only after its right password and code."""

from __future__ import annotations

from tests.conftest import PASSWORD, TEST_ACTOR
from tests.legal.test_portal_sign_in import WRONG, CountingHasher, _shape, hasher  # noqa: F401  (hasher is a fixture)
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Role


def _disabled(db, clock, staff):
    user = staff.create(Role.REVIEWER)
    with db.transaction() as session:
        identity.disable_user(session, actor=TEST_ACTOR, clock=clock, username=user.username, reason="left the team")
    return user


def _locked(client, staff, max_failures: int):
    user = staff.create(Role.REVIEWER)
    for _ in range(max_failures):
        client.post("/login", data={"username": user.username, "password": WRONG, "totp": "123456"})
    return user


def test_a_wrong_password_looks_the_same_for_every_account_state(
    client, db, clock, staff, hasher: CountingHasher, settings
) -> None:  # noqa: F811
    accounts = {
        "active": staff.create(Role.REVIEWER).username,
        "unknown": "nobody-here",
        "disabled": _disabled(db, clock, staff).username,
        "locked": _locked(client, staff, settings.login_max_failures).username,
    }
    answers = {}
    for state, username in accounts.items():
        before = hasher.verified
        response = client.post("/login", data={"username": username, "password": WRONG, "totp": "123456"})
        assert hasher.verified - before == 1, f"{state}: one Argon2 verification, as for every other attempt"
        answers[state] = _shape(response, username)
    assert answers["active"][0] == 401 and "password or one-time code is wrong" in answers["active"][2]
    for state, answer in answers.items():
        assert answer == answers["active"], f"the {state} account's answer differs from a wrong password's"


def test_a_disabled_account_is_told_so_after_the_right_password_and_code(client, db, clock, staff) -> None:
    user = _disabled(db, clock, staff)
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "totp": staff.code(user)}, follow_redirects=False
    )
    assert response.status_code == 403 and "This account is disabled" in response.text
