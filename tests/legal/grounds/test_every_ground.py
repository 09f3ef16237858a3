"""Every ground recorded, each on its own (issue #16 item 4): the engine weighs protected
expression, jurisdiction, double criminality, completeness, competence, necessity, targets,
data held and the rule-of-law tier on every order and records each, whichever decides.
Double criminality is no ground for the provider on EU mutual-recognition orders (Reg.
2023/1543 Art. 12(1)(d) leaves it to the enforcing state); where it applies, the conduct
lawful at home is data with its sources (legal/policy/data/double_criminality.toml)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tests.legal.disclosure.desk import Desk
from tests.legal.disclosure.factories import Scenarios
from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.legal.instruments import InstrumentCode, IssuerKind, load_catalogue
from trustdesk.legal.policy import double_criminality, jurisdictions
from trustdesk.legal.policy.engine import Outcome, RequestFacts, TargetFacts, propose
from trustdesk.legal.policy.grounds import GroundName, GroundVerdict
from trustdesk.legal.policy.rules import load_policy
from trustdesk.platform.port import DataCategory as C

CAT = load_catalogue()
POLICY, PROFILES, DC = load_policy(), jurisdictions.load(), double_criminality.load()
ALL = frozenset(C)


def facts(**overrides: object) -> RequestFacts:
    base = RequestFacts(
        reference="LR-G",
        instrument=CAT.get("national_court_order"),
        issuer=IssuerKind.COURT,
        country="US",
        categories=frozenset({C.SUBSCRIBER}),
        emergency=False,
        offence="Wire fraud",
        missing_elements=(),
        manifest_errors=(),
        targets=(TargetFacts("@suspect", "u1", ALL),),
        period_start=datetime(2026, 1, 1, tzinfo=UTC),
        period_end=datetime(2026, 2, 1, tzinfo=UTC),
    )
    return replace(base, **overrides)


def grounds_of(**overrides: object) -> dict[GroundName, GroundVerdict]:
    proposal = propose(facts(**overrides), policy=POLICY, jurisdictions=PROFILES)
    return {g.name: g.verdict for g in proposal.grounds}


def test_a_protected_expression_refusal_still_records_the_other_grounds_that_hold() -> None:
    proposal = propose(
        facts(offence="Insulting the President", missing_elements=("case_reference",), targets=(TargetFacts("@x", None),)),
        policy=POLICY,
        jurisdictions=PROFILES,
    )
    assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("PE-1",)
    verdicts = {g.name: g.verdict for g in proposal.grounds}
    assert verdicts[GroundName.PROTECTED_EXPRESSION] is GroundVerdict.HOLDS
    assert verdicts[GroundName.COMPLETENESS] is GroundVerdict.HOLDS
    assert verdicts[GroundName.TARGETS] is GroundVerdict.HOLDS


def test_a_jurisdiction_refusal_still_weighs_competence_and_necessity() -> None:
    verdicts = grounds_of(
        instrument=CAT.get("eu_epoc"),
        country="TR",
        issuer=IssuerKind.PROSECUTOR,
        categories=frozenset({C.SUBSCRIBER, C.CONTENT}),
        missing_elements=("grounds",),
    )
    assert verdicts[GroundName.JURISDICTION] is GroundVerdict.HOLDS
    assert verdicts[GroundName.COMPETENCE] is GroundVerdict.IN_PART  # a prosecutor may not order content
    assert verdicts[GroundName.NECESSITY] is GroundVerdict.HOLDS


def test_double_criminality_is_not_the_providers_ground_on_a_european_production_order() -> None:
    proposal = propose(
        facts(
            instrument=CAT.get("eu_epoc"),
            country="FR",
            issuer=IssuerKind.INVESTIGATING_JUDGE,
            offence="Diffamation (criminal defamation)",
        ),
        policy=POLICY,
        jurisdictions=PROFILES,
    )
    assert proposal.outcome is Outcome.PRODUCE and "DC-1" not in proposal.rule_ids
    ground = next(g for g in proposal.grounds if g.name is GroundName.DOUBLE_CRIMINALITY)
    assert ground.verdict is GroundVerdict.NOT_APPLICABLE and "Art. 12(1)(d)" in ground.detail


def test_double_criminality_refuses_elsewhere_with_the_home_state_named() -> None:
    proposal = propose(facts(offence="Criminal defamation of a business rival"), policy=POLICY, jurisdictions=PROFILES)
    assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("DC-1",)
    ground = next(g for g in proposal.grounds if g.name is GroundName.DOUBLE_CRIMINALITY)
    assert ground.verdict is GroundVerdict.HOLDS and "IE" in ground.detail


def test_every_entry_of_the_double_criminality_list_has_a_source_and_matches_its_own_words() -> None:
    assert DC.home == PROFILES.home
    for entry in DC.conduct:
        assert entry.source.strip() and "http" in entry.source, entry.code
        assert entry in DC.conduct_in(entry.patterns[0].replace("*", "")), entry.code
    for exemption in DC.not_a_provider_ground.values():
        assert exemption.source.startswith("https://eur-lex.europa.eu/"), exemption.instrument


@given(
    instrument=st.sampled_from([i.code for i in CAT.incoming]),
    country=st.sampled_from(["FR", "DE", "US", "TR", "RU", "BR"]),
    issuer=st.sampled_from(list(IssuerKind)),
    categories=st.frozensets(st.sampled_from(list(C))),
    offence=st.sampled_from(["Fraud", "Adultery", "Insulting officials", "Terrorism"]),
    found=st.booleans(),
)
def test_every_proposal_records_every_ground_once(
    instrument: InstrumentCode, country: str, issuer: IssuerKind, categories: frozenset[C], offence: str, found: bool
) -> None:
    proposal = propose(
        facts(
            instrument=CAT.get(instrument),
            country=country,
            issuer=issuer,
            categories=categories,
            offence=offence,
            targets=(TargetFacts("@t", "u1" if found else None, ALL if found else None),),
        ),
        policy=POLICY,
        jurisdictions=PROFILES,
    )
    assert [g.name for g in proposal.grounds] == list(GroundName)
    if proposal.outcome is Outcome.CHALLENGE:  # contesting an order always names the ground that holds
        assert any(g.verdict is GroundVerdict.HOLDS for g in proposal.grounds)


def test_the_decision_stores_each_ground(db, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.journalist_insult_order()
    decision = desk.decide(filed.request.id)
    by_name = {g["ground"]: g for g in decision.grounds}
    assert set(by_name) == {g.value for g in GroundName}
    assert by_name["protected_expression"]["verdict"] == "holds" and by_name["rule_of_law"]["internal"] is True
    assert by_name["double_criminality"]["verdict"] in {"holds", "clear"}


def test_staff_see_every_ground_in_the_api_and_the_console(client, staff, db, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.journalist_insult_order()
    desk.decide(filed.request.id)
    headers = {"Authorization": f"Bearer {staff.token(Permission.REQUESTS_READ)}"}
    (decision,) = client.get(f"/api/v1/legal/requests/{filed.request.id}/decisions", headers=headers).json()
    assert [g["ground"] for g in decision["grounds"]] == [g.value for g in GroundName]
    staff.sign_in(client, staff.create(Role.LEGAL_OFFICER))
    page = client.get(f"/console/legal/requests/{filed.request.id}").text
    assert 'id="grounds"' in page and "protected expression" in page
