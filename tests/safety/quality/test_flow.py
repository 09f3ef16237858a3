"""Done when (issue #22): a sample flows from a decision, through a blind re-review and a
disagreement settled by a senior, into the accuracy figures of the DSA report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.safety.quality.factories import automated, decide, manager, rule, senior
from tests.safety.review.factories import reviewer
from trustdesk.core.errors import Forbidden
from trustdesk.safety.quality import labels, metrics, sampling
from trustdesk.safety.quality.indicators import accuracy_indicators
from trustdesk.safety.quality.labels import Label
from trustdesk.transparency.reports import annex, dsa_accuracy, dsa_files, service
from trustdesk.transparency.reports.periods import parse_period


def test_a_sample_flows_from_decision_to_the_dsa_report(session, clock, platform, cast) -> None:
    rule(session, clock, name="notices of illegal goods", queue="illegal_goods", source="notice")
    rule(session, clock, name="the new drugs rule", decider="demo/drugs@v2", share=0.0, minimum=5, period="week")
    rita = reviewer(session, clock, "rita", "illegal_goods")
    right = decide(session, clock, platform, rita, cast.messages["drug_ad"])
    wrong = decide(session, clock, platform, rita, cast.messages["drug_price_list"], outcome="no_action")
    machine = automated(session, clock, platform, cast.messages["extortion_threat"])
    clock.advance(minutes=5)
    boss = manager()
    drawn = sampling.draw(session, principal=boss.principal, actor=boss.actor, clock=clock)
    by_item = {(s.item_kind, s.item_id): s for s in drawn}
    assert set(by_item) == {("decision", right.id), ("decision", wrong.id), ("action", machine.id)}
    assert sampling.draw(session, principal=boss.principal, actor=boss.actor, clock=clock) == []  # once only

    # Rita may not re-review her own decisions, and is not shown them.
    assert {i.sample_id for i in labels.blind_queue(session, principal=rita.principal)} == {by_item[("action", machine.id)].id}
    with pytest.raises(Forbidden, match="someone else"):
        labels.give_blind_label(
            session,
            principal=rita.principal,
            actor=rita.actor,
            clock=clock,
            sample_id=by_item[("decision", wrong.id)].id,
            label=Label("action", "illegal_goods"),
        )

    ravi = reviewer(session, clock, "ravi")
    blind = {
        ("decision", right.id): Label("action", "illegal_goods"),  # agrees
        ("decision", wrong.id): Label("action", "illegal_goods"),  # disagrees: rita let a drug price list stand
        ("action", machine.id): Label("no_action", None),  # disagrees: ravi is wrong this time
    }
    for key, label in blind.items():
        labels.give_blind_label(
            session, principal=ravi.principal, actor=ravi.actor, clock=clock, sample_id=by_item[key].id, label=label
        )
    assert [by_item[k].state for k in blind] == ["labelled", "senior", "senior"]
    with pytest.raises(Forbidden):
        labels.disagreements(session, principal=ravi.principal)

    sena = senior(session, clock)
    assert {s.id for s in labels.disagreements(session, principal=sena.principal)} == {
        by_item[("decision", wrong.id)].id,
        by_item[("action", machine.id)].id,
    }
    finals = {
        ("decision", wrong.id): Label("action", "illegal_goods", "A price list is an offer."),
        ("action", machine.id): Label("action", "extortion", "A threat to publish photos unless paid."),
    }
    for key, label in finals.items():
        labels.give_final_label(
            session, principal=sena.principal, actor=sena.actor, clock=clock, sample_id=by_item[key].id, label=label
        )
    assert [by_item[k].first_correct for k in blind] == [True, False, True]

    m = metrics.compute(session, start=parse_period("2026-H1").start, end=parse_period("2026-H1").end)
    assert (m.total.agreement.successes, m.total.agreement.trials) == (1, 3)
    [precision] = m.precision
    assert (precision.source, precision.detector, precision.precision.trials, precision.precision.percent) == (
        "rule",
        "demo/drugs@v2",
        1,
        Decimal("100.0"),
    )

    period = parse_period("2026-H1")
    indicators = accuracy_indicators(session, start=period.start, end=period.end)
    human, rule_means = indicators.get("human"), indicators.get("automated:rule")
    assert (human.sample_size, human.error.successes, human.error.percent) == (2, 1, Decimal("50.0"))
    assert (human.error.low, human.error.high) == (Decimal("9.5"), Decimal("90.5"))
    assert (rule_means.sample_size, rule_means.error.percent, rule_means.error.low, rule_means.error.high) == (
        1,
        Decimal("0.0"),
        Decimal("0.0"),
        Decimal("79.3"),
    )

    report = service.dsa_report(session, period=period, now=clock.now())
    aut3 = {(f.breakdown, f.measure.value): f.value for f in report.figures if f.table == "AUT.3" and f.category == "ALL"}
    assert aut3[("human", "count")] == 2
    assert aut3[("human:errors", "count")] == 1
    assert aut3[("human:errors", "share_percent")] == Decimal("50.0")
    assert (aut3[("human:errors", "ci95_low_percent")], aut3[("human:errors", "ci95_high_percent")]) == (
        Decimal("9.5"),
        Decimal("90.5"),
    )
    assert aut3[("automated:rule", "count")] == 1 and aut3[("automated:rule:errors", "ci95_high_percent")] == Decimal("79.3")
    assert aut3[("automated", "count")] == 1 and aut3[("automated:bank", "count")] == 0
    # and into the Commission's template (Part 8, accuracy of the automated means): the one
    # automated sample was right, so 1.0000, from the labels rather than a typed figure
    annex_report = service.dsa_annex(session, period=period, now=clock.now())
    part8 = annex.render_part(annex_report.part(8)).decode()
    assert dsa_accuracy.annex_accuracy(indicators, {})[annex.SCOPE_TOTAL].accuracy == Decimal("1.0000")
    assert "1.0000" in part8
    html = dsa_files.files(report, annex_report)[-1].content.decode()
    assert "Human moderators" in html and "9.5–90.5%" in html
