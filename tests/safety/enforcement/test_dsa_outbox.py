"""Submission at platform scale (issue #22, item 6): the outbox drains in batches of 100,
resumes after a crash at any point without sending a statement twice or skipping one, keeps
within the account's rate limits (and the double enforces them), isolates the one bad
statement of a refused batch, and shows its backlog in /metrics, the API, the console and
the CLI."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.doubles.dsa_database import TOKEN, dsa_backend, serve_double
from tests.safety.enforcement.test_dsa_submission import remove_drug_ad
from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.dsa_database import BatchOutcome, DsaDatabase, HttpDsaDatabase
from trustdesk.core.dsa_database.limits import RateLimit
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.safety.enforcement import dsa_submission
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons

ACTION_COLUMNS = [c.key for c in EnforcementAction.__table__.columns if c.key != "id"]


def seed(db, clock, platform, cast, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """n statements: one real removal (and its strike-threshold restriction), copied with new
    puids and actions; their puids, in order."""
    with db.transaction() as s:
        action = remove_drug_ad(s, clock, platform, cast)
        template = action.statement
        copies = [EnforcementAction(**{c: getattr(action, c) for c in ACTION_COLUMNS}) for _ in range(n - 2)]
        s.add_all(copies)
        s.flush()  # one flush for all: their ids
        s.add_all(
            StatementOfReasons(
                action_id=copy.id,
                puid=f"td-copy-{i:05d}",
                account_id=template.account_id,
                language="en",
                token=f"tok-{i}",
                facts=template.facts,
                payload={**template.payload, "puid": f"td-copy-{i:05d}"},
                told_at=template.told_at,
                appeal_until=template.appeal_until,
                dsa_state="pending",
                dsa_attempts=0,
            )
            for i, copy in enumerate(copies)
        )
        assert len(list(s.scalars(select(StatementOfReasons.id)))) == n  # the removal, its restriction, the copies
        return list(s.scalars(select(StatementOfReasons.puid).order_by(StatementOfReasons.id)))


class Killed(BaseException):
    """The submitter dies: nothing after this point runs."""


class DiesOnce(DsaDatabase):
    """The real adapter, except that on call number `at` the process dies before or after the
    database took the batch."""

    def __init__(self, inner: DsaDatabase, *, at: int, after_call: bool) -> None:
        self.inner, self.at, self.after_call, self.calls = inner, at, after_call, 0

    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        self.calls += 1
        if self.calls == self.at and not self.after_call:
            raise Killed
        outcome = self.inner.submit(statements)
        if self.calls == self.at:
            raise Killed
        return outcome

    def exists(self, puid: str) -> bool:
        return self.inner.exists(puid)


def states(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        query = select(StatementOfReasons.dsa_state, func.count()).group_by(StatementOfReasons.dsa_state)
        return dict(s.execute(query).all())


@pytest.mark.parametrize("after_call", [False, True], ids=["killed-before-the-call", "killed-after-the-call"])
def test_a_killed_submitter_resumes_without_sending_twice_or_skipping(db, clock, platform, cast, after_call) -> None:
    puids = seed(db, clock, platform, cast, 250)
    with dsa_backend("http") as dsa:
        assert dsa.app is not None
        dying = DiesOnce(dsa.database, at=2, after_call=after_call)
        with pytest.raises(Killed):
            dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dying)
        assert states(db) == {"submitted": 100, "sending": 100, "pending": 50}  # the second batch is in doubt
        resumed = dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
        assert resumed.recovered == (100 if after_call else 0)
        assert (resumed.submitted, resumed.batches) == ((50, 1) if after_call else (150, 2))
        assert set(dsa.held) == set(puids) and dsa.app.state.duplicates == 0  # none lost, none sent twice
        assert max(dsa.app.state.sizes) == 100
    assert states(db) == {"submitted": 250}
    with db.transaction() as s:
        rows = list(s.scalars(select(StatementOfReasons)))
        assert all(row.dsa_uuid == dsa.held[row.puid] for row in rows)  # the recovered ones' uuids were looked up


def test_a_duplicate_puid_counts_as_already_submitted(db, clock, platform, cast) -> None:
    puids = seed(db, clock, platform, cast, 5)
    with dsa_backend("http") as dsa:
        assert dsa.app is not None
        with db.transaction() as s:  # as if another run had sent two of them and died before recording it
            taken = dsa.database.submit([row.payload for row in s.scalars(select(StatementOfReasons).limit(2))])
        summary = dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
        assert summary.submitted == 5 and summary.rejected == 0 and set(dsa.held) == set(puids)
        assert dsa.app.state.duplicates == 2  # refused by the database as held, not stored twice
    with db.transaction() as s:
        uuids = dict(s.execute(select(StatementOfReasons.puid, StatementOfReasons.dsa_uuid)).all())
    assert all(uuids[puid] == uuid for puid, uuid in taken.accepted.items())


def test_a_batch_with_no_answer_stops_the_run_and_waits(db, clock, platform, cast) -> None:
    seed(db, clock, platform, cast, 150)
    with dsa_backend("http") as dsa:
        assert dsa.app is not None
        dsa.app.state.unavailable = 4  # the first batch's four tries
        summary = dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
        assert summary.failed == 100 and summary.submitted == 0 and states(db) == {"pending": 150}
        with db.transaction() as s:
            assert dsa_submission.backlog(s).failing == 100
        assert dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database).submitted == 150


def test_the_rate_limit_waits_for_room_in_both_windows() -> None:
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limit = RateLimit(per_second=3, per_minute=5, now=lambda: now[0], sleep=sleep)
    for _ in range(6):
        limit.wait()
    assert slept == [1.01, 59.0]  # the 4th waits for the second (and the slack), the 6th for the minute
    with pytest.raises(ValueError):
        RateLimit(per_second=0)


def test_the_double_enforces_the_rate_limit_and_the_adapter_keeps_within_it() -> None:
    statement = remove_statement()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serve_double(token=TOKEN, per_second=1000, per_minute=3) as (url, app):  # a minute's window: no race with load
        answers = [
            httpx.post(f"{url}/api/v1/statement", json={**statement, "puid": f"burst-{i}"}, headers=auth) for i in range(4)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429] and app.state.throttle.refused == 1
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 60 and "burst-3" not in app.state.store
    with serve_double(token=TOKEN, per_second=3, per_minute=1000) as (url, app):
        polite = HttpDsaDatabase(base_url=url, token=TOKEN, limit=RateLimit(per_second=3), batch_size=1)
        outcome = polite.submit([{**statement, "puid": f"polite-{i}"} for i in range(4)])
        assert len(outcome.accepted) == 4 and app.state.throttle.refused == 0 and polite.requests == 4
        assert polite.limit is not None and polite.limit.waited > 0  # the 4th waited for the second to pass


def remove_statement() -> dict[str, Any]:
    from tests.core.dsa_database.test_contract import statement

    return statement("x")


def test_a_refused_batch_that_names_no_statement_is_halved_until_the_bad_one_is_alone() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)["statements"]
        calls.append(len(batch))
        if any(s["puid"] == "bad" for s in batch):
            return httpx.Response(422, json={"message": "The given data was invalid.", "errors": {"statements": ["invalid"]}})
        return httpx.Response(201, json={"statements": [{"puid": s["puid"], "uuid": f"u-{s['puid']}"} for s in batch]})

    database = HttpDsaDatabase(
        base_url="http://dsa.test",
        token=TOKEN,
        http=httpx.Client(base_url="http://dsa.test", transport=httpx.MockTransport(answer)),
    )
    statements = [{"puid": f"p{i}"} for i in range(100)]
    statements[37] = {"puid": "bad"}
    outcome = database.submit(statements)
    assert set(outcome.rejected) == {"bad"} and len(outcome.accepted) == 99 and not outcome.failed
    assert calls[0] == 100 and len(calls) <= 2 * 7 + 1  # about two calls per halving


def test_errors_named_statement_i_keep_the_bad_one_and_resend_the_rest() -> None:
    sent: list[list[str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)["statements"]
        sent.append([s["puid"] for s in batch])
        if len(sent) == 1:
            return httpx.Response(422, json={"errors": {"statement_1": {"category": ["The selected category is invalid."]}}})
        return httpx.Response(201, json={"statements": [{"puid": s["puid"], "uuid": "u"} for s in batch]})

    database = HttpDsaDatabase(
        base_url="http://dsa.test",
        token=TOKEN,
        http=httpx.Client(base_url="http://dsa.test", transport=httpx.MockTransport(answer)),
    )
    outcome = database.submit([{"puid": "a"}, {"puid": "b"}, {"puid": "c"}])
    assert outcome.rejected == {"b": {"category": ["The selected category is invalid."]}} and set(outcome.accepted) == {"a", "c"}
    assert sent == [["a", "b", "c"], ["a", "c"]]


def test_backlog_and_errors_in_metrics_the_api_and_the_console(client, staff, db, clock, platform, cast) -> None:
    seed(db, clock, platform, cast, 3)
    with db.transaction() as s:
        rows = list(s.scalars(select(StatementOfReasons).order_by(StatementOfReasons.id)))
        rows[0].payload = {**rows[0].payload, "automated_detection": "Yes"}
    with dsa_backend("memory") as dsa:
        with db.transaction() as s:
            dsa_submission.submit_pending(s, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database, limit=2)
    metrics = client.get("/metrics").text
    assert (
        'trustdesk_dsa_statements{state="held"} 1.0' in metrics and 'trustdesk_dsa_statements{state="submitted"} 1.0' in metrics
    )
    assert "trustdesk_dsa_backlog 1.0" in metrics and "trustdesk_dsa_errors 1.0" in metrics
    token = staff.token(Permission.TRANSPARENCY_PUBLISH)
    found = client.get("/api/v1/transparency/dsa/backlog", headers={"Authorization": f"Bearer {token}"}).json()
    assert found["counts"]["pending"] == 1 and found["waiting"] == 1 and found["oldest_waiting_since"]
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER, username="lena"))
    page = client.get("/console/review/dsa")
    assert page.status_code == 200 and "Outbox" in page.text and rows[0].puid in page.text and "(held)" in page.text
    audited = client.post("/console/review/dsa/self-audit", data={"csrf_token": csrf})
    assert audited.status_code == 200 and "0 discrepancies in 1 submitted statements" in audited.text
    reader = staff.token(Permission.SAFETY_READ)  # a reviewer's scope: neither the backlog nor the list
    assert client.get("/api/v1/transparency/dsa/backlog", headers={"Authorization": f"Bearer {reader}"}).status_code == 403


def test_the_cli_self_audit_lists_discrepancies(fresh_database_url, tmp_path, clock, platform, cast) -> None:
    from typer.testing import CliRunner

    from trustdesk.cli.main import app
    from trustdesk.core import migrate
    from trustdesk.core.database import Database

    url = fresh_database_url("dsa_audit")
    migrate.upgrade(url)
    db = Database.from_url(url)
    seed(db, clock, platform, cast, 2)
    with dsa_backend("memory") as dsa:
        dsa_submission.drain(db, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path), "COLUMNS": "250"}
    runner = CliRunner()
    clean = runner.invoke(app, ["dsa", "self-audit"], env=env)
    assert clean.exit_code == 0 and "2 submitted statements checked, 0 discrepancies" in clean.output, clean.output
    with db.transaction() as s:
        first = s.scalars(select(StatementOfReasons).order_by(StatementOfReasons.id)).first()
        assert first is not None
        first.payload = {**first.payload, "source_type": "SOURCE_TRUSTED_FLAGGER"}
        puid = first.puid
    db.dispose()
    found = runner.invoke(app, ["dsa", "self-audit", "--json"], env=env)
    assert found.exit_code == 1, found.output
    [line] = found.output.splitlines()
    assert json.loads(line)["puid"] == puid and json.loads(line)["field"] == "source_type"
    backlog = runner.invoke(app, ["dsa", "backlog"], env=env)
    assert backlog.exit_code == 0 and "submitted  2" in backlog.output
