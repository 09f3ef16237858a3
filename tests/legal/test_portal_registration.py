"""The portal's self-registration is no account oracle: an address that is already registered
gets the same answer as a new one, after the same Argon2 work, and the existing account is
left as it was; the attempt is in the audit log for staff (officers have no mail path)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, TEST_ACTOR
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.identity import service as identity
from trustdesk.legal import registry
from trustdesk.legal.models import Officer, OfficerState

OTHER_PASSWORD = "another long password entirely"


class CountingHasher:
    """Counts Argon2 hashes and verifications: every registration should cost the same."""

    def __init__(self, inner: object) -> None:
        self.inner, self.work = inner, 0

    def hash(self, *args: object) -> str:
        self.work += 1
        return self.inner.hash(*args)

    def verify(self, *args: object) -> bool:
        self.work += 1
        return self.inner.verify(*args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(identity._hasher)
    monkeypatch.setattr(identity, "_hasher", counting)
    return counting


def _form(agency, email: str, password: str = OTHER_PASSWORD) -> dict[str, str]:
    return {
        "agency": agency.code,
        "name": "Eve Mallory",
        "rank": "Inspector",
        "email": email,
        "supervisor": "Chief, +33 1 99 00 01 02",
        "password": password,
    }


def _shape(response, email: str) -> tuple[int, list[tuple[str, str]], str]:
    """What a caller can see of the answer, less what differs by design: the request id, the
    length, the e-mail typed in, and the freshly drawn authenticator key (and its URI)."""
    headers = sorted((k, v) for k, v in response.headers.items() if k not in {"x-request-id", "content-length", "date"})
    text = re.sub(r'<code class="secret">[A-Z2-7]+</code>', "<secret>", response.text)
    text = re.sub(r"otpauth://[^<]+", "<uri>", text)
    return response.status_code, headers, text.replace(email, "<email>")


def _officers(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Officer)) or 0


def _row(db, officer_id: int) -> tuple[object, ...]:
    with db.transaction() as session:
        o = session.get(Officer, officer_id)
        return (o.name, o.rank, o.supervisor, o.state, o.password_hash, o.totp_secret, o.agency_id, o.failed_logins)


@pytest.mark.parametrize("state", ["verified", "pending", "blocked"])
def test_a_known_address_gets_the_answer_a_new_one_gets(client, db, clock, legal, hasher, state: str) -> None:
    agency = legal.agency()
    known = legal.officer(agency, verified=state != "pending")
    if state == "blocked":
        with db.transaction() as session:
            registry.set_officer_state(
                session, actor=TEST_ACTOR, clock=clock, officer_id=known.id, state=OfficerState.BLOCKED, reason="test"
            )
    new = f"newcomer@{agency.email_domains[0]}"
    answers, work = {}, {}
    for case, email in {"new": new, "known": known.email}.items():
        before = hasher.work
        answers[case] = _shape(client.post("/portal/register", data=_form(agency, email)), email)
        work[case] = hasher.work - before
    assert answers["new"][0] == 200 and "Registration received" in answers["new"][2]
    assert answers["known"] == answers["new"], "an already-registered address must not change the answer"
    assert work["known"] == work["new"] == 1, "one Argon2 hash in both cases"
    for word in ("already", "registered with", "exists"):
        assert word not in answers["known"][2]


def test_the_existing_account_is_left_as_it_was(client, db, legal) -> None:
    agency = legal.agency()
    known = legal.officer(agency)
    before, count = _row(db, known.id), _officers(db)
    response = client.post("/portal/register", data=_form(agency, known.email.upper()))
    assert response.status_code == 200
    assert _officers(db) == count, "no second account"
    assert _row(db, known.id) == before, "no overwritten password, key, name or state"
    shown = re.search(r'<code class="secret">([A-Z2-7]+)</code>', response.text).group(1)
    assert shown != known.totp_secret, "the page never shows the real account's key"
    wrong = client.post(
        "/portal/login",
        data={"email": known.email, "password": OTHER_PASSWORD, "totp": legal.code(known)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401, "the password typed at registration opens nothing"
    right = client.post(
        "/portal/login", data={"email": known.email, "password": PASSWORD, "totp": legal.code(known)}, follow_redirects=False
    )
    assert right.status_code == 303, "the owner still signs in with their own password and key"


def test_the_attempt_is_in_the_audit_log_for_staff(client, db, legal) -> None:
    agency = legal.agency()
    known = legal.officer(agency)
    client.post("/portal/register", data=_form(agency, known.email))
    with db.transaction() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "officer.register.duplicate"))
        assert (entry.object_type, entry.object_id) == ("officer", str(known.id))
        assert entry.actor.startswith("anonymous:") and "already registered" in (entry.reason or "")
        assert (entry.details or {}).get("agency") == agency.code
        registered = session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "officer.register"))
        assert list(registered) == [str(known.id)], "only the account made before: no new one"


def test_a_new_address_still_registers_a_pending_officer(client, db, legal) -> None:
    agency = legal.agency()
    email = f"newcomer@{agency.email_domains[0]}"
    response = client.post("/portal/register", data=_form(agency, email))
    shown = re.search(r'<code class="secret">([A-Z2-7]+)</code>', response.text).group(1)
    with db.transaction() as session:
        officer = session.scalar(select(Officer).where(Officer.email == email))
        assert officer is not None and officer.state == "pending" and officer.totp_secret == shown
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "officer.register.duplicate")) is None


def test_validation_errors_are_the_same_for_known_and_new_addresses(client, db, legal) -> None:
    agency = legal.agency()
    known = legal.officer(agency)
    new = f"newcomer@{agency.email_domains[0]}"
    cases = {
        "weak password": (lambda e: _form(agency, e, password="short"), 422, "at least"),
        "unknown agency": (lambda e: {**_form(agency, e), "agency": "no-such-agency"}, 404, "No agency"),
        "no supervisor": (lambda e: {**_form(agency, e), "supervisor": " "}, 422, "supervisor"),
    }
    for case, (form, status, words) in cases.items():
        answers = [_shape(client.post("/portal/register", data=form(email)), email) for email in (new, known.email)]
        assert answers[0][0] == status and words in answers[0][2], case
        assert answers[0] == answers[1], f"{case}: the same error for a known and a new address"
    malformed = client.post("/portal/register", data=_form(agency, "not-an-address"))
    assert malformed.status_code == 422 and "is not an e-mail address" in malformed.text
    assert _officers(db) == 1


def test_a_registration_racing_another_for_the_same_address_gets_the_same_answer(
    client, db, legal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two registrations for one new address at once: the second finds no row when it looks,
    and the unique index stops its insert; it gets the ordinary answer, not a 500."""
    agency = legal.agency()
    known = legal.officer(agency)
    looked_up = registry._officer_by_email
    calls = []

    def not_yet(session, email):
        calls.append(email)
        return None if len(calls) == 1 else looked_up(session, email)

    monkeypatch.setattr(registry, "_officer_by_email", not_yet)
    before, count = _row(db, known.id), _officers(db)
    response = client.post("/portal/register", data=_form(agency, known.email))
    assert response.status_code == 200 and "Registration received" in response.text
    assert _officers(db) == count and _row(db, known.id) == before
    with db.transaction() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "officer.register.duplicate")) is not None
