"""Scenarios of issue #16 items 2 and 7, filed through the portal and decided at the desk, on
both databases: orders that cite protected expression only by statute or in the issuer's
language are refused; an order no one can classify waits for a person; the extra reviews of a
weaker rule-of-law tier are given by distinct legal officers before any package is built."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import LENA, MAX, NOOR, Desk
from tests.legal.disclosure.factories import Scenarios, legal_staff
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput
from trustdesk.legal.disclosure import service
from trustdesk.legal.disclosure.models import Disclosure, DisclosureState
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import LawfulRequest, RequestState

INES = legal_staff("ines", 4)


def _court_order(scenarios: Scenarios, country: str, legal_basis: str):
    return scenarios.file(
        kind=IssuerKind.COURT,
        country=country,
        instrument="national_court_order",
        categories=["subscriber"],
        account=scenarios.cast.journalist,
        elements={"legal_basis": legal_basis, "case_reference": "2026/7", "issuing_court": "Criminal Court"},
    )


def _epoc(scenarios: Scenarios, country: str, offence: str, categories: tuple[str, ...] = ("subscriber",)):
    return scenarios.file(
        kind=IssuerKind.INVESTIGATING_JUDGE,
        country=country,
        instrument="eu_epoc",
        categories=list(categories),
        account=scenarios.cast.suspect,
        # a domestic case (the person and the offence in the issuing State): no enforcing-State
        # window (Reg. 2023/1543 Art. 8(2)), so what is tested here is the tier's reviews alone
        person_country=country,
        offence_country=country,
        elements={
            "issuing_authority": "Investigating judge",
            "case_reference": "JI-2026-0301",
            "offence": offence,
            "grounds": "The account is the suspect's.",
        },
    )


@pytest.mark.parametrize(
    ("country", "legal_basis"),
    [
        ("TR", "TCK m. 299"),
        ("TR", "Cumhurbaşkanına hakaret suçu"),
        ("RU", "ч. 1 ст. 207.3 УК РФ"),
        ("RU", "Article 280.3 of the Criminal Code"),
        ("BY", "Art. 368 of the Criminal Code"),
        ("CN", "刑法第293条"),
    ],
)
def test_protected_expression_cited_by_statute_or_in_the_issuers_language_is_refused(
    desk: Desk, scenarios: Scenarios, country: str, legal_basis: str
) -> None:
    filed = _court_order(scenarios, country, legal_basis)
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "refuse" and decision.refusal_reason == "immunities"
    assert [r["rule_id"] for r in decision.reasons] == ["PE-1"]
    desk.adopt(decision)
    with desk.db.transaction() as session:
        assert session.get(LawfulRequest, filed.request.id).state == RequestState.REFUSED


def test_an_eu_order_naming_protected_expression_in_polish_is_refused(desk: Desk, scenarios: Scenarios) -> None:
    filed = _epoc(scenarios, "PL", "Znieważenie Prezydenta RP (art. 135 § 2 Kodeksu karnego)")
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "refuse" and decision.reasons[0]["rule_id"] == "PE-1"


def test_no_crime_at_home_by_citation_fails_double_criminality(desk: Desk, scenarios: Scenarios) -> None:
    decision = desk.decide(_court_order(scenarios, "CN", "刑法第246条").request.id)
    assert decision.outcome == "refuse" and [r["rule_id"] for r in decision.reasons] == ["DC-1"]


def test_a_classified_order_needs_no_extra_person(desk: Desk, scenarios: Scenarios) -> None:
    decision = desk.decide(_epoc(scenarios, "FR", "Trafic de stupéfiants (art. 222-37 code pénal)").request.id)
    assert decision.outcome == "produce" and decision.extra_reviews == 0
    assert "OF-1" not in [r["rule_id"] for r in decision.reasons]


def test_an_unclassified_order_is_flagged_and_waits_for_a_person(desk: Desk, scenarios: Scenarios) -> None:
    filed = _epoc(scenarios, "FR", "Infraction prévue à l'article L. 4711 (voir pièce jointe)")
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "produce" and decision.extra_reviews == 1
    assert [r["rule_id"] for r in decision.reasons][-1] == "OF-1"
    approved = desk.through_approval(filed.request.id)
    with pytest.raises(Conflict, match="1 still to be given"):
        desk.package(approved)
    review(desk, approved, NOOR, "Classified by hand: drug offence under the Code de la santé publique.")
    package, _ = desk.package(approved)
    assert package.sha256


# -- item 7: the extra reviews of a tier, by distinct people -------------------------------------


def review(desk: Desk, disclosure: Disclosure, by, note: str = "Necessity and proportionality weighed.") -> Disclosure:
    with desk.db.transaction() as session:
        return service.review(session, actor=TEST_ACTOR, clock=desk.clock, principal=by, disclosure_id=disclosure.id, note=note)


def test_a_moderate_tier_needs_one_more_person_before_the_package(desk: Desk, scenarios: Scenarios) -> None:
    filed = _epoc(scenarios, "IT", "Traffico di stupefacenti (art. 73 D.P.R. 309/1990)")  # Italy: WGI 2023 0.39, tier 2
    decision = desk.decide(filed.request.id)
    assert decision.extra_reviews == 1 and "TIER-2" in [r["rule_id"] for r in decision.reasons]
    approved = desk.through_approval(filed.request.id)
    assert approved.state == DisclosureState.APPROVED
    with pytest.raises(Conflict, match="extra review"):
        desk.package(approved)
    for same in (LENA, MAX):  # the preparer and the approver are not a third pair of eyes
        with pytest.raises(Forbidden):
            review(desk, approved, same)
    with pytest.raises(InvalidInput):
        review(desk, approved, NOOR, note="")
    review(desk, approved, NOOR)
    with pytest.raises(Conflict, match="all been given"):
        review(desk, approved, INES)
    package, _ = desk.package(approved)
    assert package.sha256


def test_a_weak_tier_needs_two_more_people_each_distinct(desk: Desk, scenarios: Scenarios) -> None:
    filed = _epoc(scenarios, "BG", "Трафик на наркотици", categories=("subscriber", "content"))  # Bulgaria: -0.01, tier 3
    decision = desk.decide(filed.request.id)
    assert decision.extra_reviews == 2 and decision.categories == ["subscriber"]  # content only through an MLAT
    desk.adopt(decision)
    prepared = desk.prepare(filed.request.id)
    review(desk, prepared, NOOR)  # reviews may come before the approval
    with pytest.raises(Forbidden):
        review(desk, prepared, NOOR)
    with pytest.raises(Forbidden):
        desk.approve(prepared, by=NOOR)  # a reviewer is not also the approver
    approved = desk.approve(prepared)
    with pytest.raises(Conflict, match="1 still to be given"):
        desk.package(approved)
    review(desk, approved, INES)
    assert desk.package(approved)[0].sha256
    with desk.db.transaction() as session:
        kinds = [a.kind for a in service.approvals(session, disclosure_id=approved.id)]
        people = {a.staff_id for a in service.approvals(session, disclosure_id=approved.id)}
    assert kinds.count("review") == 2 and len(people) == 4


def test_a_strong_tier_needs_no_extra_review(desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()  # France: 1.18, tier 1
    decision = desk.decide(filed.request.id)
    assert decision.extra_reviews == 0
    approved = desk.through_approval(filed.request.id)
    with desk.db.transaction() as session:
        assert service.reviews_missing(session, approved) == 0
        with pytest.raises(Conflict, match="all been given"):
            service.review(session, actor=TEST_ACTOR, clock=desk.clock, principal=NOOR, disclosure_id=approved.id, note="x y z")
