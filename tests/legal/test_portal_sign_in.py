"""The portal's sign-in is no account-state oracle (issue #14): a wrong password, an unknown
officer, a pending, blocked or locked account all get the same answer after the same work;
the account's state is told only to whoever gives the right password and one-time code."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity import service as identity
from trustdesk.legal import registry
from trustdesk.legal.models import OfficerState

WRONG = "not the password at all"


class CountingHasher:
    """Counts Argon2 verifications: each sign-in attempt should cost exactly one."""

    def __init__(self, inner: object) -> None:
        self.inner, self.verified = inner, 0

    def verify(self, *args: object) -> bool:
        self.verified += 1
        return self.inner.verify(*args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(identity._hasher)
    monkeypatch.setattr(identity, "_hasher", counting)
    return counting


def _shape(response, echoed: str) -> tuple[int, list[tuple[str, str]], str]:
    """What a caller can see of the answer, less what differs by design: the request id, the
    length, and the e-mail typed in, which the form gives back."""
    headers = sorted((k, v) for k, v in response.headers.items() if k not in {"x-request-id", "content-length", "date"})
    return response.status_code, headers, response.text.replace(echoed, "<email>")


def _blocked(db, clock, legal, agency):
    officer = legal.officer(agency)
    with db.transaction() as session:
        registry.set_officer_state(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            officer_id=officer.id,
            state=OfficerState.BLOCKED,
            reason="mailbox compromised",
        )
    return officer


def _locked(client, legal, agency, max_failures: int):
    officer = legal.officer(agency)
    for _ in range(max_failures):
        client.post("/portal/login", data={"email": officer.email, "password": WRONG, "totp": "123456"})
    return officer


def test_a_wrong_password_looks_the_same_for_every_account_state(client, db, clock, legal, hasher, settings) -> None:
    agency = legal.agency()
    accounts = {
        "verified": legal.officer(agency).email,
        "unknown": f"nobody@{agency.email_domains[0]}",
        "pending": legal.officer(agency, verified=False).email,
        "blocked": _blocked(db, clock, legal, agency).email,
        "locked": _locked(client, legal, agency, settings.login_max_failures).email,
    }
    answers = {}
    for state, email in accounts.items():
        before = hasher.verified
        response = client.post("/portal/login", data={"email": email, "password": WRONG, "totp": "123456"})
        assert hasher.verified - before == 1, f"{state}: one Argon2 verification, as for every other attempt"
        answers[state] = _shape(response, email)
    assert answers["verified"][0] == 401 and "password or one-time code is wrong" in answers["verified"][2]
    for state, answer in answers.items():
        assert answer == answers["verified"], f"the {state} account's answer differs from a wrong password's"
    for word in ("pending", "verification", "blocked", "locked until"):
        assert word not in answers["verified"][2]


def test_a_right_password_with_a_wrong_code_tells_nothing_either(client, db, clock, legal) -> None:
    agency = legal.agency()
    pending, blocked = legal.officer(agency, verified=False), _blocked(db, clock, legal, agency)
    verified = legal.officer(agency)
    answers = [
        _shape(client.post("/portal/login", data={"email": o.email, "password": PASSWORD, "totp": "000000"}), o.email)
        for o in (verified, pending, blocked)
    ]
    assert answers[0] == answers[1] == answers[2]


def test_the_state_is_told_after_the_right_password_and_code(client, db, clock, legal) -> None:
    agency = legal.agency()
    pending, blocked = legal.officer(agency, verified=False), _blocked(db, clock, legal, agency)
    waiting = client.post("/portal/login", data={"email": pending.email, "password": PASSWORD, "totp": legal.code(pending)})
    assert waiting.status_code == 403 and "awaiting verification" in waiting.text
    refused = client.post("/portal/login", data={"email": blocked.email, "password": PASSWORD, "totp": legal.code(blocked)})
    assert refused.status_code == 403 and "blocked" in refused.text
    assert client.get("/portal", follow_redirects=False).headers["location"] == "/portal/login", "neither is signed in"
    with db.transaction() as session:
        reasons = list(session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "portal.login.fail")))
    assert any("pending" in r for r in reasons) and any("blocked" in r for r in reasons), "the audit log keeps the real reason"


def test_a_locked_account_signs_in_again_after_the_pause(client, legal, settings) -> None:
    officer = _locked(client, legal, legal.agency(), settings.login_max_failures)
    during = client.post("/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": legal.code(officer)})
    assert during.status_code == 401, "no sign-in while locked, and no sign that it is locked"
    legal.clock.advance(minutes=settings.login_lockout_minutes + 1)
    after = client.post(
        "/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": legal.code(officer)}, follow_redirects=False
    )
    assert after.status_code == 303
