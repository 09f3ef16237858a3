"""Orders to act are not orders to disclose (issue #16 item 1): a removal order (TCO Reg.
2021/784 Art. 3; DSA Art. 9), a non-disclosure order (18 U.S.C. 2705(b)), a national court's
order of confidentiality and a preservation order that names no category each get their own
outcome (comply, comply in part, challenge, clarify), never a refusal for 'nothing left';
and a gag holds the user notice for its whole period however its order is decided."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import Cast, Scenarios
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.legal import service as legal_requests
from trustdesk.legal.disclosure import notice
from trustdesk.legal.instruments import IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.models import LawfulRequest, RequestState
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy.engine import Outcome, RequestFacts, TargetFacts, propose
from trustdesk.legal.policy.rules import load_policy
from trustdesk.platform.port import DataCategory as C

CAT = load_catalogue()
POLICY, PROFILES = load_policy(), jurisdictions.load()
TCO = {
    "issuing_authority": "Office central de lutte contre la criminalité liée aux TIC",
    "reasons": "ISIS recruitment video",
    "redress": "Tribunal administratif de Paris",
}
DSA9 = {
    "legal_basis": "Art. 421-2-5 code pénal; DSA Art. 9",
    "reasons": "Direct incitement to terrorism",
    "issuing_authority": "Pharos, Ministère de l'Intérieur",
    "redress": "Tribunal administratif de Paris",
    "territorial_scope": "France",
}


def facts(**overrides: object) -> RequestFacts:
    base = RequestFacts(
        reference="LR-A",
        instrument=CAT.get("tco_removal"),
        issuer=IssuerKind.POLICE,
        country="FR",
        categories=frozenset(),
        emergency=False,
        offence="ISIS recruitment video",
        missing_elements=(),
        manifest_errors=(),
        targets=(TargetFacts("msg:1", "u1"),),
    )
    return replace(base, **overrides)


def decide(**overrides: object):
    return propose(facts(**overrides), policy=POLICY, jurisdictions=PROFILES)


# -- the engine on plain facts -------------------------------------------------------------


def test_a_tco_removal_order_is_complied_with_not_refused_for_naming_no_data() -> None:
    proposal = decide()
    assert proposal.outcome is Outcome.COMPLY and proposal.refusal_reason is None
    assert "ACT-1" in proposal.rule_ids and proposal.accounts == ("u1",) and not proposal.categories


def test_a_dsa_art9_order_with_a_location_not_on_the_platform_is_complied_with_in_part() -> None:
    two = (TargetFacts("msg:1", "u1"), TargetFacts("https://example.invalid/x", None))
    proposal = decide(instrument=CAT.get("dsa_art9"), targets=two)
    assert proposal.outcome is Outcome.COMPLY_IN_PART and {"ACT-1", "ACT-4"} <= set(proposal.rule_ids)
    assert proposal.not_held == (("https://example.invalid/x", "all"),)


def test_a_removal_order_none_of_whose_locations_exists_asks_the_issuer() -> None:
    proposal = decide(instrument=CAT.get("dsa_art9"), targets=(TargetFacts("msg:404", None),))
    assert proposal.outcome is Outcome.CLARIFY and proposal.refusal_reason is RefusalReason.NOT_HELD


def test_a_removal_order_from_a_state_that_cannot_issue_it_is_challenged() -> None:
    proposal = decide(country="TR")  # TCO removal orders come from EU member states (Art. 3(1))
    assert proposal.outcome is Outcome.CHALLENGE and proposal.refusal_reason is RefusalReason.MANIFEST_ERROR
    assert "ACT-3" in proposal.rule_ids


def test_a_removal_order_against_protected_expression_is_challenged() -> None:
    proposal = decide(instrument=CAT.get("dsa_art9"), offence="Insulting the President of the Republic")
    assert proposal.outcome is Outcome.CHALLENGE and proposal.refusal_reason is RefusalReason.IMMUNITIES


def test_a_removal_order_missing_an_element_is_sent_back_not_refused() -> None:
    proposal = decide(missing_elements=("redress",))
    assert proposal.outcome is Outcome.CLARIFY and proposal.refusal_reason is RefusalReason.INCOMPLETE


def test_a_2705b_order_is_complied_with_for_its_period() -> None:
    end = datetime(2027, 3, 1, tzinfo=UTC)
    proposal = decide(instrument=CAT.get("us_2705b_ndo"), issuer=IssuerKind.COURT, country="US", confidentiality_until=end)
    assert proposal.outcome is Outcome.COMPLY and "ACT-2" in proposal.rule_ids
    assert any("until 2027-03-01" in r.detail for r in proposal.reasons)


def test_a_2705b_order_not_from_a_court_is_challenged() -> None:
    proposal = decide(instrument=CAT.get("us_2705b_ndo"), issuer=IssuerKind.POLICE, country="US")
    assert proposal.outcome is Outcome.CHALLENGE and "ACT-3" in proposal.rule_ids


def test_a_national_court_order_of_confidentiality_alone_is_complied_with() -> None:
    proposal = decide(
        instrument=CAT.get("national_court_order"),
        issuer=IssuerKind.COURT,
        country="US",
        confidentiality_until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert proposal.outcome is Outcome.COMPLY and "ACT-2" in proposal.rule_ids


def test_a_preservation_order_naming_no_category_preserves_what_the_issuer_may_order() -> None:
    proposal = decide(instrument=CAT.get("us_2703f"), issuer=IssuerKind.POLICE, country="US", offence="Fraud")
    assert proposal.outcome is Outcome.PRESERVE_ONLY and proposal.categories == frozenset(C)
    epoc_pr = decide(instrument=CAT.get("eu_epoc_pr"), issuer=IssuerKind.PROSECUTOR, offence="Escroquerie")
    assert epoc_pr.outcome is Outcome.PRESERVE_ONLY and epoc_pr.categories == frozenset(C)


# -- cases on the database ----------------------------------------------------------------


def _schedule(db, clock, request_id: int):
    with db.transaction() as session:
        return notice.schedule(session, actor=TEST_ACTOR, clock=clock, principal=LENA, request_id=request_id)


def _send(db, clock, notice_id: int):
    with db.transaction() as session:
        return notice.mark_sent(session, actor=TEST_ACTOR, clock=clock, principal=LENA, notice_id=notice_id, channel="in-app")


def _state(db, request_id: int) -> str:
    with db.transaction() as session:
        return session.get(LawfulRequest, request_id).state


def _ndo(scenarios: Scenarios, account: str, *, kind: IssuerKind = IssuerKind.COURT, end_date: str = "2027-03-01"):
    return scenarios.file(
        kind=kind,
        country="US",
        instrument="us_2705b_ndo",
        categories=[],
        account=account,
        elements={"case_reference": "1:26-mj-00417", "end_date": end_date},
    )


def test_a_tco_removal_order_filed_in_the_portal_is_proposed_for_compliance(
    db, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.file(
        kind=IssuerKind.POLICE, country="FR", instrument="tco_removal", categories=[], account=cast.suspect, elements=TCO
    )
    decision = desk.decide(filed.request.id)
    assert (decision.outcome, decision.refusal_reason) == ("comply", None)
    desk.adopt(decision)
    assert _state(db, filed.request.id) == RequestState.UNDER_REVIEW


def test_a_dsa_art9_order_is_proposed_for_compliance(db, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    filed = scenarios.file(
        kind=IssuerKind.REGULATOR, country="FR", instrument="dsa_art9", categories=[], account=cast.suspect, elements=DSA9
    )
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "comply" and "ACT-1" in [r["rule_id"] for r in decision.reasons]


def test_a_court_gag_is_complied_with_and_holds_the_notice_of_another_order(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    gag = _ndo(scenarios, cast.journalist)
    decision = desk.decide(gag.request.id)
    assert decision.outcome == "comply" and "ACT-2" in [r["rule_id"] for r in decision.reasons]
    refused = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(refused.request.id))
    (scheduled,) = _schedule(db, clock, refused.request.id)
    assert scheduled.not_before == datetime(2027, 3, 1, tzinfo=UTC)
    with pytest.raises(Conflict, match="non-disclosure order covers this account until 2027-03-01"):
        _send(db, clock, scheduled.id)


def test_adopting_a_challenge_of_a_gag_never_voids_it(db, clock, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    gag = _ndo(scenarios, cast.journalist, kind=IssuerKind.POLICE)  # a 2705(b) order must come from a court
    decision = desk.decide(gag.request.id)
    assert decision.outcome == "challenge"
    desk.adopt(decision)
    assert _state(db, gag.request.id) == RequestState.REFUSED
    refused = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(refused.request.id))
    (scheduled,) = _schedule(db, clock, refused.request.id)
    assert scheduled.not_before == datetime(2027, 3, 1, tzinfo=UTC)
    clock.advance(days=30)
    with pytest.raises(Conflict, match="until 2027-03-01"):
        _send(db, clock, scheduled.id)


def test_a_gag_without_a_readable_end_date_withholds_the_notice(db, clock, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    _ndo(scenarios, cast.journalist, end_date="until further order of the court")
    refused = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(refused.request.id))
    (scheduled,) = _schedule(db, clock, refused.request.id)
    assert scheduled.state == "withheld" and scheduled.not_before is None


def test_a_national_court_orders_confidentiality_period_holds_its_own_refused_notice(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.file(
        kind=IssuerKind.COURT,
        country="TR",
        instrument="national_court_order",
        categories=["subscriber"],
        account=cast.journalist,
        elements={
            "legal_basis": "Turkish Penal Code Art. 125(3): insulting public officials",
            "case_reference": "2026/119 Esas",
            "issuing_court": "Ankara 12th Criminal Court of Peace",
            "confidentiality_until": "2027-06-30",
        },
    )
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "refuse"
    desk.adopt(decision)
    (scheduled,) = _schedule(db, clock, filed.request.id)
    assert scheduled.not_before == datetime(2027, 6, 30, tzinfo=UTC)


def test_a_confidentiality_period_is_a_date(scenarios: Scenarios, cast: Cast) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        scenarios.file(
            kind=IssuerKind.COURT,
            country="US",
            instrument="national_court_order",
            categories=[],
            account=cast.suspect,
            elements={
                "legal_basis": "Court order",
                "case_reference": "C-1",
                "issuing_court": "D. Ct.",
                "confidentiality_until": "soon",
            },
        )


def test_a_national_court_order_of_confidentiality_only_is_complied_with(
    db, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.file(
        kind=IssuerKind.COURT,
        country="US",
        instrument="national_court_order",
        categories=[],
        account=cast.suspect,
        elements={
            "legal_basis": "Sealing order",
            "case_reference": "C-2",
            "issuing_court": "D. Ct.",
            "confidentiality_until": "2027-01-31",
        },
    )
    assert desk.decide(filed.request.id).outcome == "comply"


def test_a_withdrawn_gag_lifts(db, clock, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    gag = _ndo(scenarios, cast.journalist)
    with db.transaction() as session:
        legal_requests.withdraw(
            session, actor=TEST_ACTOR, clock=clock, principal=gag.principal, request_id=gag.request.id, reason="sealing lifted"
        )
    refused = scenarios.journalist_insult_order()
    desk.adopt(desk.decide(refused.request.id))
    (scheduled,) = _schedule(db, clock, refused.request.id)
    assert _send(db, clock, scheduled.id).state == "sent"


def test_a_removal_order_is_judged_on_who_may_issue_it_not_on_data_it_cannot_ask() -> None:
    proposal = decide(instrument=CAT.get("dsa_art9"), issuer=IssuerKind.REGULATOR, categories=frozenset({C.SUBSCRIBER}))
    competence = next(g for g in proposal.grounds if g.name.value == "competence")
    assert competence.verdict.value == "clear" and proposal.outcome is Outcome.COMPLY
