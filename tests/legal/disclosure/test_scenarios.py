"""Cases, as a legal team lives them: from receipt to a verified, signed package in the
requesting officer's hands, or to a reasoned refusal."""

from __future__ import annotations

import pytest

from tests.legal.disclosure.desk import LENA, MAX, Desk
from tests.legal.disclosure.factories import Cast, Scenarios
from trustdesk.core.errors import Conflict, Forbidden
from trustdesk.legal.disclosure import delivery, packages
from trustdesk.legal.models import LawfulRequest, RequestState
from trustdesk.legal.registry import officer_principal


def _state(db, request_id: int) -> str:
    with db.transaction() as session:
        return session.get(LawfulRequest, request_id).state


def test_a_french_investigating_judge_gets_the_suspects_messages_after_the_enforcing_state_wait(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.french_judge_content_order()
    decision = desk.decide(filed.request.id)
    assert decision.outcome == "produce" and decision.categories == ["content", "subscriber"]
    assert decision.not_before == filed.request.not_before and "ES-1" in [r["rule_id"] for r in decision.reasons]
    disclosure = desk.through_approval(filed.request.id)
    assert _state(db, filed.request.id) == RequestState.APPROVED
    with pytest.raises(Conflict, match="enforcing state may object"):
        desk.package(disclosure)
    clock.advance(days=10, minutes=1)
    package, secret = desk.package(disclosure)
    opened = desk.download(filed.principal, secret)
    assert opened.allowed and opened.data is not None
    check = packages.verify(opened.data, public_key_b64=desk.key.public_key_b64)
    assert check.ok, check.problems
    paths = {f["path"] for f in check.manifest["files"]}
    assert {f"data/{cast.suspect}/content.json", f"data/{cast.suspect}/subscriber.json"} <= paths
    assert check.manifest["decision"]["policy_version"] == decision.policy_version
    assert _state(db, filed.request.id) == RequestState.ANSWERED


def test_a_prosecutors_content_order_is_refused_because_the_issuer_is_not_competent(db, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.prosecutor_content_order()
    decision = desk.decide(filed.request.id)
    assert (decision.outcome, decision.refusal_reason) == ("refuse", "manifest_error")
    assert "a prosecutor may not order them" in decision.reasons[0]["detail"] and decision.reasons[0]["rule_id"] == "GATE-1"
    desk.adopt(decision)
    assert _state(db, filed.request.id) == RequestState.REFUSED
    with pytest.raises(Conflict, match="nothing to disclose"):
        desk.prepare(filed.request.id)


def test_a_journalists_chats_sought_for_insulting_officials_by_a_lower_tier_state_are_refused(
    db, desk: Desk, scenarios: Scenarios
) -> None:
    filed = scenarios.journalist_insult_order()
    decision = desk.decide(filed.request.id)
    assert (decision.outcome, decision.refusal_reason) == ("refuse", "immunities")
    assert [r["rule_id"] for r in decision.reasons] == ["PE-1"]
    assert "Penal Code Art. 125(3)" in decision.reasons[0]["detail"]
    assert decision.categories == [] and decision.accounts == []
    desk.adopt(decision)
    assert _state(db, filed.request.id) == RequestState.REFUSED


def test_a_us_emergency_request_gets_the_minimal_set_only_after_the_call_back(
    db, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.us_emergency_request()
    decision = desk.decide(filed.request.id)
    assert decision.categories == ["identification", "subscriber"] and decision.widenable == ["content"]
    assert decision.callback_required and {"EM-1", "EM-2"} <= {r["rule_id"] for r in decision.reasons}
    with pytest.raises(Conflict, match="call-back"):
        desk.adopt(decision)  # held: nothing moves before the call-back
    desk.call_back(filed.request.id)
    disclosure = desk.through_approval(filed.request.id)
    package, secret = desk.package(disclosure)
    check = packages.verify(desk.download(filed.principal, secret).data, public_key_b64=desk.key.public_key_b64)
    assert check.ok and {f["category"] for f in check.manifest["files"]} == {"subscriber", "identification"}
    assert _state(db, filed.request.id) == RequestState.PARTLY_ANSWERED


def test_a_second_legal_officer_may_widen_an_emergency_disclosure_but_not_the_preparer(
    db, desk: Desk, scenarios: Scenarios
) -> None:
    filed = scenarios.us_emergency_request()
    desk.call_back(filed.request.id)
    desk.adopt(desk.decide(filed.request.id))
    disclosure = desk.prepare(filed.request.id, by=LENA)
    with pytest.raises(Forbidden, match="preparer"):
        desk.widen(disclosure, ["content"], by=LENA)
    widened = desk.widen(disclosure, ["content"], by=MAX)
    assert widened.categories == ["content", "identification", "subscriber"]


def test_a_secret_chat_content_request_is_answered_not_held(db, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.secret_chat_content_order()
    decision = desk.decide(filed.request.id)
    assert (decision.outcome, decision.refusal_reason) == ("refuse", "not_held")
    assert [filed_account_category for filed_account_category in decision.not_held] == [[scenarios.cast.secretive, "content"]]
    assert "NH-1" in [r["rule_id"] for r in decision.reasons]


def test_a_second_approval_by_the_preparer_is_refused(db, desk: Desk, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    desk.adopt(desk.decide(filed.request.id))
    disclosure = desk.prepare(filed.request.id, by=LENA)
    with pytest.raises(Forbidden, match="preparer"):
        desk.approve(disclosure, by=LENA)
    assert _state(db, filed.request.id) == RequestState.UNDER_REVIEW
    assert desk.approve(disclosure, by=MAX).state == "approved"


def test_a_download_by_another_officer_is_refused_and_recorded(db, clock, desk: Desk, scenarios: Scenarios, legal) -> None:
    filed = scenarios.us_emergency_request()
    desk.call_back(filed.request.id)
    package, secret = desk.package(desk.through_approval(filed.request.id))
    colleague = officer_principal(legal.officer(filed.agency))
    refused = desk.download(colleague, secret)
    assert not refused.allowed and refused.status == 403 and refused.data is None
    clock.advance(hours=73)
    expired = desk.download(filed.principal, secret)
    assert expired.status == 410
    with db.transaction() as session:
        rows = delivery.downloads(session, package_id=package.id)
    assert [(r.allowed, r.reason, r.officer_id) for r in rows] == [
        (False, "not the requesting officer", colleague.id),
        (False, "link expired", filed.officer.id),
    ]
