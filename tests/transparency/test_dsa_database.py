"""The DSA database client against the test double, over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.safety.review import factories
from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.transparency import dsa_database as dsadb
from trustdesk.transparency.reports.periods import parse_interval

# The shared fixtures: the seeded demo platform on the test clock, and a session with the queues.
cast, platform, session = factories.cast, factories.platform, factories.session
TOKEN = "test-token-0123456789"


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


@pytest.fixture
def double() -> Iterator[tuple[str, object]]:
    with dsadb.serve_double(token=TOKEN) as served:
        yield served


@pytest.fixture
def client(double) -> dsadb.DsaDatabaseClient:  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    client = dsadb.DsaDatabaseClient(base_url=double[0], token=TOKEN, sleep=sleeps.append, backoff=0.25)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


def test_batches_hold_at_most_100_and_all_are_accepted(client, double) -> None:
    outcome = client.submit([statement(f"p-{i}") for i in range(250)])
    assert len(outcome.accepted) == 250 and not outcome.rejected and not outcome.failed
    assert double[1].state.calls.count("/api/v1/statements") == 3
    assert client.exists("p-7") and not client.exists("p-unknown")


def test_the_double_refuses_what_the_api_refuses(double) -> None:
    url, _ = double
    too_many = httpx.post(
        f"{url}/api/v1/statements",
        json={"statements": [statement(f"x{i}") for i in range(101)]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert too_many.status_code == 422 and "statements" in too_many.json()["errors"]
    assert httpx.post(f"{url}/api/v1/statement", json=statement("a")).status_code == 401
    one = httpx.post(f"{url}/api/v1/statement", json=statement("a"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert one.status_code == 201 and one.json()["uuid"]
    again = httpx.post(f"{url}/api/v1/statement", json=statement("a"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert again.status_code == 422 and again.json()["errors"]["puid"] == [dsadb.NOT_UNIQUE]


def test_duplicate_puids_are_refused_before_sending(client, double) -> None:
    with pytest.raises(InvalidInput, match="puid"):
        client.submit([statement("same"), statement("same")])
    assert double[1].state.calls == []


def test_a_rejection_keeps_its_errors_and_the_rest_go_through(client) -> None:
    bad = statement("bad", decision_ground="DECISION_GROUND_ILLEGAL_CONTENT")
    outcome = client.submit([statement("good-1"), bad, statement("good-2")])
    assert set(outcome.accepted) == {"good-1", "good-2"}
    assert "illegal_content_legal_ground" in outcome.rejected["bad"]


def test_a_busy_service_is_retried_with_backoff(client, double) -> None:
    double[1].state.unavailable = 2
    outcome = client.submit([statement("later")])
    assert set(outcome.accepted) == {"later"} and client.sleeps == [0.25, 0.5]


def test_a_service_that_stays_away_fails_the_batch_without_losing_it(client, double) -> None:
    double[1].state.unavailable = 10
    outcome = client.submit([statement("never")])
    assert set(outcome.failed) == {"never"} and "503" in outcome.failed["never"]


def test_a_statement_already_known_from_an_earlier_try_counts_as_submitted(client) -> None:
    client.submit([statement("once")])
    outcome = client.submit([statement("once"), statement("twice")])
    assert set(outcome.accepted) == {"once", "twice"} and not outcome.rejected


def test_pending_statements_are_submitted_and_rejections_kept_for_a_person(session, clock, platform, cast, client) -> None:
    action = enforcement.take_action(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        action="remove_message",
        policy="illegal_goods",
        automated=False,
        source="notice",
        reason="Drug advertising.",
        legal_ground="BtMG § 29",
    )
    broken = dict(action.statement.payload)
    broken.pop("illegal_content_explanation")
    action.statement.payload = broken  # as if an older version had produced it
    summary = dsadb.submit_pending(session, actor=TEST_ACTOR, clock=clock, client=client)
    assert summary.rejected == 1 and summary.submitted >= 1  # the strike-threshold restriction went through
    [rejected] = dsadb.rejected_statements(session)
    assert "illegal_content_explanation" in rejected.dsa_errors
    with pytest.raises(InvalidInput):
        dsadb.revise_statement(session, actor=TEST_ACTOR, clock=clock, statement_id=rejected.id, payload=broken)
    dsadb.revise_statement(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        statement_id=rejected.id,
        payload={**broken, "illegal_content_explanation": "Advertises drugs."},
    )
    assert dsadb.submit_pending(session, actor=TEST_ACTOR, clock=clock, client=client).submitted == 1
    assert rejected.dsa_state == "submitted" and rejected.dsa_uuid


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-H2", datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-03-01..2026-03-31", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
    ],
)
def test_periods(text: str, start: datetime, end: datetime) -> None:
    assert parse_interval(text) == (start, end)


@given(st.text(max_size=25))
def test_any_period_text_parses_to_a_non_empty_span_or_a_clear_error(text: str) -> None:
    try:
        start, end = parse_interval(text)
    except InvalidInput as exc:
        assert "Period" in exc.detail
    else:
        assert start < end and start.tzinfo is UTC


def test_export_writes_one_statement_per_line(session, clock, platform, cast, tmp_path) -> None:
    enforcement.take_action(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        action="remove_message",
        policy="spam",
        automated=False,
        source="notice",
        reason="Spam.",
    )
    start, end = parse_interval("2026-03")
    lines = [dsadb.as_json_line(s) for s in dsadb.statements_in(session, start=start, end=end)]
    assert lines and all(json.loads(line)["puid"].startswith("td-") for line in lines)
    assert not list(dsadb.statements_in(session, start=end, end=parse_interval("2026-04")[1]))


def test_the_cli_exports_a_period_and_submits_to_the_database(
    fresh_database_url, tmp_path, clock, platform, cast, double
) -> None:
    from typer.testing import CliRunner

    from trustdesk.cli.main import app
    from trustdesk.core import migrate
    from trustdesk.core.database import Database

    url = fresh_database_url("sor_cli")
    migrate.upgrade(url)
    db = Database.from_url(url)
    with db.transaction() as s:
        enforcement.take_action(
            s,
            actor=TEST_ACTOR,
            clock=clock,
            platform=platform,
            subject_kind="message",
            subject_id=cast.messages["drug_ad"],
            action="remove_message",
            policy="illegal_goods",
            automated=False,
            source="notice",
            reason="Drug advertising.",
        )
    db.dispose()
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    out = tmp_path / "sor.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["transparency", "export-sor", "--period", "2026-03", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2  # the removal and the restriction its strikes led to
    assert all(not dsadb.validate_statement(json.loads(line)) for line in lines)
    bad = runner.invoke(app, ["transparency", "export-sor", "--period", "March", "--out", str(out)], env=env)
    assert bad.exit_code == 2 and "Period" in bad.output
    submitted = runner.invoke(
        app, ["transparency", "submit-sor", "--endpoint", double[0]], env={**env, "TRUSTDESK_DSA_DATABASE_TOKEN": TOKEN}
    )
    assert submitted.exit_code == 0 and "submitted 2" in submitted.output, submitted.output
