"""Submitting our statements of reasons to the DSA database, on both adapters (the HTTP one
against the double over loopback, and the in-memory twin); a person's fix of a rejection;
the export of a period; and the CLI commands that do both."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.doubles.dsa_database import BACKENDS, TOKEN, DsaBackend, dsa_backend, serve_double
from tests.safety.review import factories
from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.enforcement import dsa_submission
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.transparency.reports.periods import parse_interval

# The shared fixtures: the seeded demo platform on the test clock, and a session with the queues.
cast, platform, session = factories.cast, factories.platform, factories.session


@pytest.fixture(params=BACKENDS)
def dsa(request: pytest.FixtureRequest) -> Iterator[DsaBackend]:
    with dsa_backend(request.param) as dsa:
        yield dsa


def remove_drug_ad(session, clock, platform, cast, **extra):  # type: ignore[no-untyped-def]
    return enforcement.take_action(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        action="remove_message",
        automated=False,
        source="notice",
        **{"policy": "illegal_goods", "reason": "Drug advertising.", **extra},
    )


def test_pending_statements_are_submitted_and_rejections_kept_for_a_person(session, clock, platform, cast, dsa) -> None:
    action = remove_drug_ad(session, clock, platform, cast, legal_ground="BtMG § 29")
    broken = dict(action.statement.payload)
    broken.pop("illegal_content_explanation")
    action.statement.payload = broken  # as if an older version had produced it
    summary = dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    assert summary.rejected == 1 and summary.submitted >= 1  # the strike-threshold restriction went through
    [rejected] = dsa_submission.rejected_statements(session)
    assert "illegal_content_explanation" in rejected.dsa_errors and rejected.puid not in dsa.held
    with pytest.raises(InvalidInput):
        dsa_submission.revise_statement(session, actor=TEST_ACTOR, clock=clock, statement_id=rejected.id, payload=broken)
    dsa_submission.revise_statement(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        statement_id=rejected.id,
        payload={**broken, "illegal_content_explanation": "Advertises drugs."},
    )
    assert dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database).submitted == 1
    assert rejected.dsa_state == "submitted" and rejected.dsa_uuid == dsa.held[rejected.puid]


def test_a_statement_without_an_answer_stays_pending(session, clock, platform, cast) -> None:
    remove_drug_ad(session, clock, platform, cast)
    with dsa_backend("http") as dsa:
        assert dsa.app is not None
        dsa.app.state.unavailable = 10
        summary = dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    assert summary.failed >= 1 and summary.submitted == summary.rejected == 0
    assert all(
        s.dsa_state == "pending" and "transport" in s.dsa_errors
        for s in dsa_submission.statements_in(session, start=parse_interval("2026")[0], end=parse_interval("2026")[1])
    )


def test_export_writes_one_statement_per_line(session, clock, platform, cast) -> None:
    remove_drug_ad(session, clock, platform, cast, policy="spam", reason="Spam.")
    start, end = parse_interval("2026-03")
    lines = [dsa_submission.as_json_line(s) for s in dsa_submission.statements_in(session, start=start, end=end)]
    assert lines and all(json.loads(line)["puid"].startswith("td-") for line in lines)
    assert not list(dsa_submission.statements_in(session, start=end, end=parse_interval("2026-04")[1]))


def test_the_cli_exports_a_period_and_submits_to_the_database(fresh_database_url, tmp_path, clock, platform, cast) -> None:
    from typer.testing import CliRunner

    from trustdesk.cli.main import app
    from trustdesk.core import migrate
    from trustdesk.core.database import Database

    url = fresh_database_url("sor_cli")
    migrate.upgrade(url)
    db = Database.from_url(url)
    with db.transaction() as s:
        remove_drug_ad(s, clock, platform, cast)
    db.dispose()
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    out = tmp_path / "sor.jsonl"
    runner = CliRunner()
    result = runner.invoke(app, ["transparency", "export-sor", "--period", "2026-03", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2  # the removal and the restriction its strikes led to
    assert all(not validate_statement(json.loads(line)) for line in lines)
    bad = runner.invoke(app, ["transparency", "export-sor", "--period", "March", "--out", str(out)], env=env)
    assert bad.exit_code == 2 and "Period" in bad.output
    with serve_double(token=TOKEN) as (double_url, double):
        no_url = runner.invoke(app, ["transparency", "submit-sor"], env={**env, "TRUSTDESK_DSA_DATABASE_TOKEN": TOKEN})
        assert no_url.exit_code == 2 and "TRUSTDESK_DSA_DATABASE_URL" in no_url.output
        no_token = runner.invoke(app, ["transparency", "submit-sor", "--endpoint", double_url], env=env)
        assert no_token.exit_code == 2 and "TRUSTDESK_DSA_DATABASE_TOKEN" in no_token.output
        first = runner.invoke(
            app,
            ["transparency", "submit-sor", "--endpoint", double_url, "--limit", "1"],
            env={**env, "TRUSTDESK_DSA_DATABASE_TOKEN": TOKEN},
        )
        assert first.exit_code == 0 and "submitted 1" in first.output, first.output
        configured = {**env, "TRUSTDESK_DSA_DATABASE_TOKEN": TOKEN, "TRUSTDESK_DSA_DATABASE_URL": double_url}
        rest = runner.invoke(app, ["transparency", "submit-sor"], env=configured)  # the container's adapter, from settings
        assert rest.exit_code == 0 and "submitted 1" in rest.output, rest.output
        assert len(double.state.store) == 2
