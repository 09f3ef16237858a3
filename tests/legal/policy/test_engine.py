"""The engine on plain facts: each rule of the policy file, the order in which they apply,
and the promise that a lower tier never gets a lower bar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from trustdesk.legal.instruments import IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy.engine import Outcome, RequestFacts, TargetFacts, propose
from trustdesk.legal.policy.rules import load_policy
from trustdesk.platform.port import DataCategory as C

POLICY = load_policy()
PROFILES = jurisdictions.load()
CAT = load_catalogue()
ALL = frozenset(C)
START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def facts(**overrides: object) -> RequestFacts:
    base = RequestFacts(
        reference="LR-T",
        instrument=CAT.get("eu_epoc"),
        issuer=IssuerKind.INVESTIGATING_JUDGE,
        country="FR",
        categories=frozenset({C.SUBSCRIBER, C.CONTENT}),
        emergency=False,
        offence="Drug trafficking (art. 222-37 code pénal)",
        missing_elements=(),
        manifest_errors=(),
        targets=(TargetFacts("@suspect", "u1", ALL),),
        period_start=START,
        period_end=END,
    )
    return replace(base, **overrides)


def decide(**overrides: object):
    return propose(facts(**overrides), policy=POLICY, jurisdictions=PROFILES)


def test_a_complete_lawful_order_is_produced_in_full() -> None:
    proposal = decide()
    assert proposal.outcome is Outcome.PRODUCE
    assert proposal.categories == {C.SUBSCRIBER, C.CONTENT} and proposal.accounts == ("u1",)


def test_protected_expression_is_refused_whatever_the_tier() -> None:
    for country in ("FR", "US", "TR", "RU"):
        proposal = decide(
            country=country,
            instrument=CAT.get("national_court_order"),
            issuer=IssuerKind.COURT,
            offence="Insulting the President (Art. 299)",
        )
        assert proposal.outcome is Outcome.REFUSE, country
        assert proposal.refusal_reason is RefusalReason.IMMUNITIES and proposal.rule_ids == ("PE-1",)
        assert not proposal.categories and not proposal.accounts


def test_protected_expression_wins_even_over_a_missing_element() -> None:
    proposal = decide(offence="LGBT propaganda", missing_elements=("grounds",))
    assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("PE-1",)


def test_double_criminality_refuses_what_is_no_crime_at_home() -> None:
    proposal = decide(offence="Adultery", instrument=CAT.get("national_court_order"), issuer=IssuerKind.COURT, country="US")
    assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("DC-1",)
    # EU mutual recognition leaves double criminality to the enforcing state (issue #16 item 4)
    assert decide(offence="Adultery").outcome is Outcome.PRODUCE
    preservation = decide(offence="Adultery", instrument=CAT.get("eu_epoc_pr"))
    assert preservation.outcome is Outcome.PRESERVE_ONLY


def test_an_instrument_the_state_cannot_use_is_refused() -> None:
    proposal = decide(country="TR")  # an EU production order from outside the EU
    assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("JUR-1",)
    assert decide(country="DK").rule_ids == ("JUR-1",)  # Denmark is not bound by e-Evidence


def test_missing_elements_ask_for_clarification() -> None:
    proposal = decide(missing_elements=("offence",))
    assert proposal.outcome is Outcome.CLARIFY and proposal.refusal_reason is RefusalReason.INCOMPLETE


def test_too_many_targets_ask_for_clarification() -> None:
    many = tuple(TargetFacts(f"@t{i}", f"u{i}", ALL) for i in range(POLICY.max_targets + 1))
    assert decide(targets=many).rule_ids == ("NR-2",)


def test_an_incompetent_issuer_gets_only_what_it_may_order() -> None:
    partial = decide(issuer=IssuerKind.PROSECUTOR)
    assert partial.outcome is Outcome.PRODUCE_IN_PART and partial.categories == {C.SUBSCRIBER} and "GATE-1" in partial.rule_ids
    refused = decide(issuer=IssuerKind.PROSECUTOR, categories=frozenset({C.CONTENT}))
    assert refused.outcome is Outcome.REFUSE and refused.refusal_reason is RefusalReason.MANIFEST_ERROR


def test_lower_tiers_get_more_review_and_never_fewer_checks() -> None:
    court = {"instrument": CAT.get("national_court_order"), "issuer": IssuerKind.COURT, "categories": frozenset({C.SUBSCRIBER})}
    reviews = [decide(country=c, **court).extra_reviews for c in ("FR", "IN", "BR", "RU")]
    assert reviews == sorted(reviews) and reviews[0] < reviews[-1]


def test_not_held_categories_are_answered_not_held() -> None:
    only_secret = (TargetFacts("@suspect", "u1", frozenset({C.SUBSCRIBER, C.IDENTIFICATION, C.TRAFFIC})),)
    refused = decide(categories=frozenset({C.CONTENT}), targets=only_secret)
    assert refused.outcome is Outcome.REFUSE and refused.refusal_reason is RefusalReason.NOT_HELD
    assert ("u1", "content") in refused.not_held
    partial = decide(targets=only_secret)
    assert partial.outcome is Outcome.PRODUCE_IN_PART and partial.categories == {C.SUBSCRIBER}


def test_unresolved_targets_are_not_held_and_the_rest_proceed() -> None:
    proposal = decide(targets=(TargetFacts("@ghost", None), TargetFacts("@suspect", "u1", ALL)))
    assert proposal.outcome is Outcome.PRODUCE_IN_PART and proposal.accounts == ("u1",) and "NH-2" in proposal.rule_ids
    assert decide(targets=(TargetFacts("@ghost", None),)).refusal_reason is RefusalReason.NOT_HELD


def test_an_overbroad_period_is_narrowed_to_its_most_recent_part() -> None:
    proposal = decide(period_start=END - timedelta(days=400))
    assert proposal.outcome is Outcome.PRODUCE_IN_PART and proposal.narrowed
    assert proposal.period_end == END and proposal.period_end - proposal.period_start == timedelta(
        days=POLICY.max_period_days[C.CONTENT]
    )


def test_emergency_keeps_the_minimal_set_and_needs_a_call_back() -> None:
    proposal = decide(
        instrument=CAT.get("us_emergency"),
        issuer=IssuerKind.POLICE,
        country="US",
        emergency=True,
        categories=frozenset({C.SUBSCRIBER, C.IDENTIFICATION, C.CONTENT}),
        callback_pending=True,
    )
    assert proposal.categories == {C.SUBSCRIBER, C.IDENTIFICATION} and proposal.widenable == {C.CONTENT}
    assert proposal.callback_required and {"EM-1", "EM-2"} <= set(proposal.rule_ids)


def test_the_enforcing_state_wait_sets_the_earliest_release() -> None:
    wait = START + timedelta(days=10)
    assert decide(not_before=wait).not_before == wait
    assert decide(not_before=wait, categories=frozenset({C.SUBSCRIBER})).not_before is None  # only traffic and content wait


def test_preservation_orders_preserve_only() -> None:
    proposal = decide(instrument=CAT.get("eu_epoc_pr"), issuer=IssuerKind.PROSECUTOR)
    assert proposal.outcome is Outcome.PRESERVE_ONLY and proposal.rule_ids[-1] == "PR-1"


def test_every_reason_points_at_a_rule_of_the_file() -> None:
    known = {r.id for r in POLICY.rules.values()} | {g.rule.id for g in POLICY.gates} | {t.rule.id for t in POLICY.tiers.values()}
    for proposal in (
        decide(),
        decide(offence="blasphemy"),
        decide(issuer=IssuerKind.PROSECUTOR),
        decide(country="RU", instrument=CAT.get("mlat_cloud")),
    ):
        assert proposal.reasons and {r.rule_id for r in proposal.reasons} <= known


@given(
    st.sampled_from(sorted(PROFILES.countries)),
    st.sampled_from([c for c in CAT.incoming if c.categories]),
    st.sets(st.sampled_from(list(C)), min_size=1),
    st.sampled_from(list(IssuerKind)),
    st.booleans(),
)
def test_no_proposal_ever_releases_more_than_asked_or_than_the_issuer_may_order(
    country, instrument, asked, issuer, emergency
) -> None:
    proposal = decide(country=country, instrument=instrument, categories=frozenset(asked), issuer=issuer, emergency=emergency)
    assert proposal.categories <= asked
    assert all(instrument.may_issue(issuer, c) for c in proposal.categories | proposal.widenable)
    if emergency and proposal.outcome is not Outcome.PRESERVE_ONLY:  # preserving discloses nothing
        assert proposal.categories <= POLICY.emergency_minimal


@given(st.sampled_from(sorted(PROFILES.countries)), st.sampled_from(sorted(PROFILES.countries)))
def test_a_weaker_tier_never_releases_what_a_stronger_one_withholds(a: str, b: str) -> None:
    assume(PROFILES.get(a).group == PROFILES.get(b).group)  # gates by group are another rule
    stronger, weaker = sorted((a, b), key=lambda c: PROFILES.get(c).tier)
    court = {"instrument": CAT.get("national_court_order"), "issuer": IssuerKind.COURT, "categories": ALL}
    strong, weak = decide(country=stronger, **court), decide(country=weaker, **court)
    assert weak.categories <= strong.categories and weak.extra_reviews >= strong.extra_reviews


@pytest.mark.parametrize("country", ["FR", "DE", "US", "TR"])
def test_the_same_facts_give_the_same_proposal(country: str) -> None:
    assert decide(country=country) == decide(country=country)
