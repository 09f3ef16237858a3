"""The figures: Wilson intervals against known values, agreement, accuracy, precision by
version, overturn on appeal and time to decision per policy and per month; the API and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.safety.quality.factories import automated, decide, manager, rule
from tests.safety.review.factories import reviewer
from trustdesk.core.identity.permissions import Role
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.quality import export, labels, metrics, sampling
from trustdesk.safety.quality.labels import Label
from trustdesk.safety.quality.metrics import Rate, wilson
from trustdesk.safety.review import appeals


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(1, 2, "9.5", "90.5"), (0, 10, "0.0", "27.8"), (10, 10, "72.2", "100.0"), (45, 50, "78.6", "95.7"), (1, 1, "20.7", "100.0")],
)
def test_wilson_intervals_match_the_published_values(k, n, low, high) -> None:
    rate = Rate(k, n)
    assert (str(rate.low), str(rate.high)) == (low, high)
    assert rate.complement.successes == n - k and rate.complement.low == Decimal("100.0") - Decimal(high)


def test_no_trials_is_no_data_not_zero() -> None:
    assert wilson(0, 0) is None and Rate(0, 0).percent is None and Rate(0, 0).low is None


def test_figures_per_policy_per_month_and_by_version(session, clock, platform, cast) -> None:
    rule(session, clock)
    rita, ravi = reviewer(session, clock, "rita", "illegal_goods", "abuse"), reviewer(session, clock, "ravi", "appeals")
    removed = decide(session, clock, platform, rita, cast.messages["drug_ad"], policy="illegal_goods")  # opened 2 h before
    decide(session, clock, platform, rita, cast.messages["extortion_threat"], policy="extortion", queue="abuse")
    v1 = automated(session, clock, platform, cast.messages["propaganda_poster"], ref="demo/terror@v1", policy="terrorism")
    v2 = automated(session, clock, platform, cast.messages["propaganda_attack"], ref="demo/terror@v2", policy="terrorism")
    clock.advance(minutes=1)
    boss = manager()
    drawn = {(s.item_kind, s.item_id): s for s in sampling.draw(session, principal=boss.principal, actor=boss.actor, clock=clock)}
    for key, label in {
        ("decision", removed.id): Label("action", "illegal_goods"),
        ("action", v1.id): Label("no_action", None),
        ("action", v2.id): Label("action", "terrorism"),
    }.items():
        labels.give_blind_label(
            session, principal=ravi.principal, actor=ravi.actor, clock=clock, sample_id=drawn[key].id, label=label
        )
    sena = reviewer(session, clock, "sena", role=Role.SENIOR_REVIEWER)
    labels.give_final_label(
        session,
        principal=sena.principal,
        actor=sena.actor,
        clock=clock,
        sample_id=drawn[("action", v1.id)].id,
        label=Label("no_action", None, "A news photo, not propaganda."),
    )
    statement = session.get(EnforcementAction, removed.action_id).statement
    appeal = appeals.file_appeal(session, clock=clock, token=statement.token, text="I was warning people.")
    appeals.decide_appeal(
        session,
        principal=ravi.principal,
        actor=ravi.actor,
        clock=clock,
        platform=platform,
        appeal_id=appeal.id,
        outcome="reversed",
        reason="A warning.",
    )

    m = metrics.compute(session, start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC))
    policy = {g.key: g for g in m.by_policy}
    goods, terror = policy["illegal_goods"], policy["terrorism"]
    # sampled: rita's removal and the account suspension its strike set off (an automated action)
    assert (goods.decisions, goods.median_hours_to_decision, goods.sampled) == (1, Decimal("2.00"), 2)
    assert (goods.agreement.successes, goods.agreement.trials, goods.overturn.successes, goods.overturn.trials) == (1, 1, 1, 1)
    assert (terror.agreement.successes, terror.agreement.trials, terror.accuracy.successes, terror.accuracy.trials) == (
        1,
        2,
        1,
        2,
    )
    assert policy["extortion"].agreement.trials == 0 and policy["extortion"].sampled >= 1  # not re-reviewed yet
    precision = {p.detector: p.precision for p in m.precision}
    assert (precision["demo/terror@v1"].successes, precision["demo/terror@v1"].trials) == (0, 1)
    assert (precision["demo/terror@v2"].successes, precision["demo/terror@v2"].trials) == (1, 1)
    months = {g.key: g for g in m.by_period}
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert months["2026-03"].sampled == m.total.sampled and months["2026-02"].sampled == 0

    rows = list(csv.DictReader(io.StringIO(export.render_csv(m).decode())))
    got = {(r["dimension"], r["key"], r["measure"]): r for r in rows}
    assert got[("policy", "terrorism", "agreement")]["trials"] == "2"
    assert got[("policy", "terrorism", "agreement")]["ci95_low"] == "9.5"
    assert got[("precision:rule", "demo/terror@v2", "precision")]["percent"] == "100.0"
    assert got[("policy", "illegal_goods", "median_hours_to_decision")]["value"] == "2.00"
    assert export.render_csv(m).count(b"\r\n") == len(rows) + 1


def test_the_api_and_csv(client, staff, clock) -> None:
    user = staff.create(Role.AUDITOR, username="aude")
    headers = {"X-CSRF-Token": staff.sign_in(client, user)}
    body = client.get("/api/v1/quality/metrics?from=2026-01-01&to=2026-04-01", headers=headers).json()
    assert body["total"]["agreement"] == {"successes": 0, "trials": 0, "percent": None, "ci95_low": None, "ci95_high": None}
    assert [g["key"] for g in body["by_period"]] == ["2026-01", "2026-02", "2026-03"]
    got = client.get("/api/v1/quality/metrics.csv?from=2026-01-01&to=2026-04-01", headers=headers)
    assert got.headers["content-type"].startswith("text/csv") and got.text.startswith("start,end,dimension,key,measure")
    assert client.get("/api/v1/quality/metrics?from=2026-04-01&to=2026-01-01", headers=headers).status_code == 422
    page = client.get("/console/quality?from=2026-01-01&to=2026-04-01")
    assert page.status_code == 200 and page.text.count("<svg") == 5 and "Agreement by month" in page.text
