"""Sampling rules: a share by a fixed hash, a minimum per period, filters by queue, policy,
source and decider, a time window; each decision drawn once; bad rules refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.safety.quality.factories import automated, decide, manager, rule
from tests.safety.review.factories import reviewer
from trustdesk.core.errors import Forbidden, InvalidInput
from trustdesk.safety.quality import sampling
from trustdesk.safety.quality.models import QualitySample, QualitySource, SamplingRule


def _draw(session, clock):  # type: ignore[no-untyped-def]
    clock.advance(minutes=1)
    boss = manager()
    return sampling.draw(session, principal=boss.principal, actor=boss.actor, clock=clock)


def _many(session, clock, platform, cast, who, n, **kw):  # type: ignore[no-untyped-def]
    return [decide(session, clock, platform, who, cast.messages["drug_ad"], outcome="no_action", **kw) for _ in range(n)]


def test_a_share_is_drawn_by_a_fixed_hash_and_only_once(session, clock, platform, cast) -> None:
    share = rule(session, clock, share=0.3)
    rita = reviewer(session, clock, "rita", "illegal_goods")
    made = _many(session, clock, platform, cast, rita, 24)
    drawn = _draw(session, clock)
    pool = {c.item_id: c for c in sampling.candidates(session, start=clock.now() - timedelta(days=30), end=clock.now())}
    expected = {d.id for d in made if sampling.draw_key(share.id, pool[d.id]) < 0.3}
    assert {s.decision_id for s in drawn} == expected and 0 < len(expected) < 24
    assert {s.reason for s in drawn} == {"share"}
    assert _draw(session, clock) == []


def test_a_minimum_per_period_is_topped_up_each_period(session, clock, platform, cast) -> None:
    rule(session, clock, share=0.0, minimum=3, period="week")
    rita = reviewer(session, clock, "rita", "illegal_goods")
    _many(session, clock, platform, cast, rita, 5)
    first = _draw(session, clock)
    assert len(first) == 3 and {s.reason for s in first} == {"minimum"}
    _many(session, clock, platform, cast, rita, 2)
    assert _draw(session, clock) == []  # this week already has its three
    clock.advance(days=7)
    _many(session, clock, platform, cast, rita, 4)
    later = _draw(session, clock)
    assert len(later) == 3 and all(s.decided_at > first[0].decided_at + timedelta(days=5) for s in later)


def test_filters_and_the_time_window(session, clock, platform, cast) -> None:
    rita = reviewer(session, clock, "rita", "illegal_goods", "abuse")
    ravi = reviewer(session, clock, "ravi", "illegal_goods")
    rule(session, clock, name="rita on abuse", queue="abuse", decider="staff:rita", policy="harassment")
    wanted = decide(session, clock, platform, rita, cast.messages["extortion_threat"], queue="abuse", policy="harassment")
    decide(session, clock, platform, rita, cast.messages["extortion_wallet"], queue="abuse", policy="extortion")
    decide(session, clock, platform, ravi, cast.messages["drug_ad"])
    rule(session, clock, name="trusted flaggers", source="trusted_flagger")
    tf = decide(session, clock, platform, ravi, cast.messages["drug_price_list"], queue="illegal_goods", source="trusted_flagger")
    until = clock.now() + timedelta(hours=1)
    rule(session, clock, name="bank 9, for an hour", decider="bank:9", active_from=clock.now(), active_until=until)
    in_window = automated(session, clock, platform, cast.messages["propaganda_poster"], ref="bank:9/entry:4", policy="terrorism")
    clock.advance(hours=2)
    automated(session, clock, platform, cast.messages["propaganda_attack"], ref="bank:9/entry:5", policy="terrorism")
    drawn = _draw(session, clock)
    assert {(s.item_kind, s.item_id) for s in drawn} == {
        ("decision", wanted.id),
        ("decision", tf.id),
        ("action", in_window.id),
    }
    bank = next(s for s in drawn if s.item_kind == "action")
    assert (bank.source, bank.detector, bank.decider_kind) == ("bank", "bank:9", "bank")


def test_a_decision_is_drawn_by_the_first_rule_only(session, clock, platform, cast) -> None:
    first, _second = rule(session, clock, name="a"), rule(session, clock, name="b")
    rita = reviewer(session, clock, "rita", "illegal_goods")
    decide(session, clock, platform, rita, cast.messages["drug_ad"], outcome="no_action")
    [sample] = _draw(session, clock)
    assert sample.rule_id == first.id


def test_retired_rules_draw_nothing_and_stay(session, clock, platform, cast) -> None:
    old = rule(session, clock)
    boss = manager()
    sampling.retire_rule(session, principal=boss.principal, actor=boss.actor, clock=clock, rule_id=old.id)
    rita = reviewer(session, clock, "rita", "illegal_goods")
    decide(session, clock, platform, rita, cast.messages["drug_ad"])
    assert _draw(session, clock) == []
    assert session.get(SamplingRule, old.id).retired_by == "staff:ada"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"share": 1.5}, "share"),
        ({"share": 0.0, "minimum": 0}, "share"),
        ({"source": "gossip"}, "source"),
        ({"queue": "nowhere"}, "queue"),
        ({"policy": "rudeness"}, "policy"),
        ({"period": "fortnight"}, "period"),
        ({"name": " "}, "name"),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_is_stored(session, clock, spec, field) -> None:
    before = session.scalar(select(func.count()).select_from(SamplingRule))
    with pytest.raises(InvalidInput) as refused:
        rule(session, clock, **spec)
    assert refused.value.extensions["field"] == field
    assert session.scalar(select(func.count()).select_from(SamplingRule)) == before


def test_a_window_must_end_after_it_starts(session, clock) -> None:
    with pytest.raises(InvalidInput, match="end after"):
        rule(session, clock, active_from=clock.now(), active_until=clock.now() - timedelta(hours=1))


def test_only_quality_managers_make_rules_and_draw(session, clock) -> None:
    rita = reviewer(session, clock, "rita")
    spec = sampling.RuleSpec(name="mine", share=1.0)
    with pytest.raises(Forbidden):
        sampling.create_rule(session, principal=rita.principal, actor=rita.actor, clock=clock, spec=spec)
    with pytest.raises(Forbidden):
        sampling.draw(session, principal=rita.principal, actor=rita.actor, clock=clock)
    assert session.scalar(select(func.count()).select_from(QualitySample)) == 0


@pytest.mark.parametrize(
    ("source", "ref", "expected", "detector"),
    [
        ("hash_match", "bank:3/entry:9", QualitySource.BANK, "bank:3"),
        ("hash_match", "demo/drugs@v2", QualitySource.RULE, "demo/drugs@v2"),  # a rule's action, once recorded as a match
        ("rule", "model:spam-nb@1.2", QualitySource.CLASSIFIER, "model:spam-nb@1.2"),
        ("trusted_flagger", None, QualitySource.TRUSTED_FLAGGER, None),
        ("notice", "strike-threshold:12", QualitySource.RULE, "strike-threshold:12"),
    ],
)
def test_the_source_and_its_version_are_read_from_the_reference(source, ref, expected, detector) -> None:
    found = sampling.source_of(source, ref)
    assert found is expected and sampling.detector_of(found, ref) == detector


def test_the_cli_draws_and_prints_the_figures(fresh_database_url, tmp_path) -> None:
    from typer.testing import CliRunner

    from trustdesk.cli.main import app

    url = fresh_database_url("quality_cli")
    env = {"TRUSTDESK_DATABASE_URL": url, "TRUSTDESK_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    drawn = runner.invoke(app, ["quality", "draw"], env=env)
    assert drawn.exit_code == 0 and "0 decisions drawn" in drawn.output
    figures = runner.invoke(app, ["quality", "metrics", "--from", "2026-01-01", "--to", "2026-02-01"], env=env)
    assert figures.exit_code == 0 and figures.output.startswith("start,end,dimension")
    bad = runner.invoke(app, ["quality", "metrics", "--from", "2026-02-01", "--to", "2026-01-01"], env=env)
    assert bad.exit_code == 2
