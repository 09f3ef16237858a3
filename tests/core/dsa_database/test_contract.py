"""What every DSA database adapter does (`DsaDatabaseContract`), run against the HTTP adapter
talking to the API's double over real HTTP on loopback and against the in-memory twin; then
what only the HTTP one does: retry a busy or unreachable service, and the double itself."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.doubles.dsa_database import TOKEN, DsaBackend, dsa_backend
from trustdesk.core.dsa_database import NOT_UNIQUE, HttpDsaDatabase
from trustdesk.core.errors import InvalidInput


def statement(puid: str, **change: object) -> dict:
    base = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": "Spam",
        "incompatible_content_explanation": "Bulk ads",
        "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_date": "2026-03-01",
        "application_date": "2026-03-02",
        "decision_facts": "Reviewed.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": puid,
    }
    return {**base, **change}


class DsaDatabaseContract:
    kind: str

    @pytest.fixture
    def dsa(self) -> Iterator[DsaBackend]:
        with dsa_backend(self.kind) as dsa:
            yield dsa

    def test_batches_hold_at_most_100_and_all_are_accepted_with_uuids(self, dsa: DsaBackend) -> None:
        outcome = dsa.database.submit([statement(f"p-{i}") for i in range(250)])
        assert outcome.accepted == dsa.held and len(outcome.accepted) == 250 and all(outcome.accepted.values())
        assert not outcome.rejected and not outcome.failed and dsa.batches() == 3
        assert dsa.database.exists("p-7") and not dsa.database.exists("p-unknown")

    def test_nothing_to_send_sends_nothing(self, dsa: DsaBackend) -> None:
        outcome = dsa.database.submit([])
        assert (outcome.accepted, outcome.rejected, outcome.failed, dsa.batches()) == ({}, {}, {}, 0)

    def test_duplicate_puids_are_refused_before_sending(self, dsa: DsaBackend) -> None:
        with pytest.raises(InvalidInput, match="puid"):
            dsa.database.submit([statement("same"), statement("same")])
        assert dsa.batches() == 0 and dsa.held == {}

    def test_a_rejection_keeps_its_reasons_and_the_rest_go_through(self, dsa: DsaBackend) -> None:
        bad = statement("bad", decision_ground="DECISION_GROUND_ILLEGAL_CONTENT")
        outcome = dsa.database.submit([statement("good-1"), bad, statement("good-2")])
        assert set(outcome.accepted) == set(dsa.held) == {"good-1", "good-2"} and not outcome.failed
        messages = outcome.rejected["bad"]["illegal_content_legal_ground"]
        assert messages and all(isinstance(m, str) and m for m in messages)

    def test_a_statement_already_held_counts_as_accepted(self, dsa: DsaBackend) -> None:
        first = dsa.database.submit([statement("once")])
        outcome = dsa.database.submit([statement("once"), statement("twice")])
        assert outcome.accepted["once"] == first.accepted["once"] == dsa.held["once"] and not outcome.rejected
        assert outcome.accepted["twice"] == dsa.held["twice"]

    def test_a_held_puid_with_errors_of_its_own_is_rejected_with_both(self, dsa: DsaBackend) -> None:
        dsa.database.submit([statement("held")])
        outcome = dsa.database.submit([statement("held", category="STATEMENT_CATEGORY_NONSENSE")])
        assert outcome.rejected["held"]["puid"] == [NOT_UNIQUE] and "category" in outcome.rejected["held"]


class TestInMemoryDsaDatabase(DsaDatabaseContract):
    kind = "memory"


class TestHttpDsaDatabase(DsaDatabaseContract):
    kind = "http"

    @pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
    def test_a_busy_service_is_retried_with_backoff(self, dsa: DsaBackend, status: int) -> None:
        assert dsa.app is not None
        dsa.app.state.unavailable, dsa.app.state.busy_status = 2, status
        outcome = dsa.database.submit([statement("later")])
        assert set(outcome.accepted) == {"later"} and dsa.sleeps == [0.25, 0.5]

    def test_retry_after_is_honoured(self, dsa: DsaBackend) -> None:
        assert dsa.app is not None
        dsa.app.state.unavailable, dsa.app.state.busy_status, dsa.app.state.retry_after = 2, 429, "3"
        assert set(dsa.database.submit([statement("later")]).accepted) == {"later"} and dsa.sleeps == [3.0, 3.0]

    def test_a_service_that_stays_away_fails_the_batch_without_losing_it(self, dsa: DsaBackend) -> None:
        assert dsa.app is not None
        dsa.app.state.unavailable = 10
        outcome = dsa.database.submit([statement("never")])
        assert set(outcome.failed) == {"never"} and "503" in outcome.failed["never"] and not outcome.accepted
        assert dsa.sleeps == [0.25, 0.5, 1.0] and dsa.held == {}

    def test_a_wrong_token_fails_without_retrying(self, dsa: DsaBackend) -> None:
        wrong = HttpDsaDatabase(base_url=dsa.url, token="wrong", sleep=dsa.sleeps.append)
        outcome = wrong.submit([statement("refused")])
        assert "401" in outcome.failed["refused"] and dsa.sleeps == [] and dsa.batches() == 1

    def test_an_unreachable_service_fails_after_its_tries(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # closed again: nothing listens there
        sleeps: list[float] = []
        database = HttpDsaDatabase(base_url=f"http://127.0.0.1:{port}", token=TOKEN, sleep=sleeps.append, backoff=0.25)
        outcome = database.submit([statement("lost")])
        assert outcome.failed["lost"] == "no answer after 4 tries: ConnectError" and sleeps == [0.25, 0.5, 1.0]


def test_the_double_refuses_what_the_api_refuses() -> None:
    with dsa_backend("http") as dsa:
        url, auth = dsa.url, {"Authorization": f"Bearer {TOKEN}"}
        too_many = httpx.post(
            f"{url}/api/v1/statements", json={"statements": [statement(f"x{i}") for i in range(101)]}, headers=auth
        )
        assert too_many.status_code == 422 and "statements" in too_many.json()["errors"]
        assert httpx.post(f"{url}/api/v1/statement", json=statement("a")).status_code == 401
        one = httpx.post(f"{url}/api/v1/statement", json=statement("a"), headers=auth)
        assert one.status_code == 201 and one.json()["uuid"]
        again = httpx.post(f"{url}/api/v1/statement", json=statement("a"), headers=auth)
        assert again.status_code == 422 and again.json()["errors"]["puid"] == [NOT_UNIQUE]
