"""Decisions on real requests, filed through intake: each one records the policy and the
profile versions that made it; a new policy never changes a past decision; the dry-run shows
what a draft would decide and writes nothing; adopting a decision moves the workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import staff_principal
from tests.legal.disclosure.factories import Scenarios, legal_staff
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput
from trustdesk.core.identity.permissions import Role
from trustdesk.legal.models import LawfulRequest, RequestState
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy import service as policy
from trustdesk.legal.policy.models import PolicyDecision, PolicyDocument
from trustdesk.legal.policy.rules import POLICY, load_policy, parse_policy
from trustdesk.platform.demo.adapter import DemoPlatform

LENA = legal_staff()


def _propose(db: Database, clock: FrozenClock, platform: DemoPlatform, request_id: int, **kw) -> PolicyDecision:
    with db.transaction() as session:
        return policy.propose_decision(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, platform=platform, request_id=request_id, **kw
        )


def test_a_decision_records_its_reasons_and_the_versions_that_made_it(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.prosecutor_content_order()
    decision = _propose(db, clock, platform, filed.request.id)
    assert decision.outcome == "refuse" and decision.refusal_reason == "manifest_error"
    assert [r["rule_id"] for r in decision.reasons][0] == "GATE-1"
    assert decision.policy_version == load_policy().version and decision.jurisdictions_version == jurisdictions.load().version
    with db.transaction() as session:
        document = session.get(PolicyDocument, decision.policy_document_id)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "policy.propose")).one()
    assert document.text == POLICY.read_text()
    assert entry.policy_version == decision.policy_version and entry.details["outcome"] == "refuse"


def test_a_new_policy_decides_new_proposals_and_leaves_past_ones_as_they_were(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    first = _propose(db, clock, platform, filed.request.id)
    strict = parse_policy(
        POLICY.read_text()
        .replace(f'version = "{load_policy().version}"', 'version = "2099-01-01.1"')
        .replace('issuers = ["regulator"]', 'issuers = ["regulator", "investigating_judge"]')
    )
    second = _propose(db, clock, platform, filed.request.id, policy=strict)
    with db.transaction() as session:
        again = session.get(PolicyDecision, first.id)
        assert (again.outcome, again.categories, again.policy_version) == (
            "produce",
            ["content", "subscriber"],
            load_policy().version,
        )
        assert (second.outcome, second.categories, second.policy_version) == ("produce_in_part", ["subscriber"], "2099-01-01.1")
        assert policy.current_decision(session, principal=LENA, request_id=filed.request.id).id == second.id


def test_editing_a_policy_without_a_new_version_is_refused(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    _propose(db, clock, platform, filed.request.id)
    edited = parse_policy(POLICY.read_text().replace("link_hours = 72", "link_hours = 24"))
    with pytest.raises(Conflict, match="new version"):
        _propose(db, clock, platform, filed.request.id, policy=edited)


def test_the_dry_run_shows_what_a_draft_would_change_and_writes_nothing(db, clock, platform, scenarios: Scenarios) -> None:
    judge = scenarios.french_judge_content_order()
    turkish = scenarios.journalist_insult_order()
    _propose(db, clock, platform, judge.request.id)
    _propose(db, clock, platform, turkish.request.id)
    draft = (
        POLICY.read_text()
        .replace(f'version = "{load_policy().version}"', 'version = "draft"')
        .replace('issuers = ["regulator"]', 'issuers = ["regulator", "investigating_judge"]')
    )
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(PolicyDecision))
        _, rows = policy.dry_run(session, principal=LENA, draft_text=draft)
        assert session.scalar(select(func.count()).select_from(PolicyDecision)) == before
    by_ref = {r.decision.facts["reference"]: r for r in rows}
    assert by_ref[judge.request.reference].changed and by_ref[judge.request.reference].draft.outcome.value == "produce_in_part"
    assert not by_ref[turkish.request.reference].changed  # protected expression: refused under both


def test_a_broken_draft_is_a_clear_error(db, scenarios: Scenarios) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput):
        policy.dry_run(session, principal=LENA, draft_text="version = ")


def test_adopting_a_refusal_refuses_the_request_with_the_annex_iii_reason(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.journalist_insult_order()
    decision = _propose(db, clock, platform, filed.request.id)
    with db.transaction() as session:
        request = policy.adopt(session, actor=TEST_ACTOR, clock=clock, principal=LENA, decision_id=decision.id)
        assert request.state == RequestState.REFUSED


def test_adopting_a_production_takes_the_request_under_review(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    decision = _propose(db, clock, platform, filed.request.id)
    with db.transaction() as session:
        assert (
            policy.adopt(session, actor=TEST_ACTOR, clock=clock, principal=LENA, decision_id=decision.id).state
            == RequestState.UNDER_REVIEW
        )


def test_a_superseded_decision_cannot_be_adopted(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    old = _propose(db, clock, platform, filed.request.id)
    _propose(db, clock, platform, filed.request.id)
    with db.transaction() as session, pytest.raises(Conflict, match="newer decision"):
        policy.adopt(session, actor=TEST_ACTOR, clock=clock, principal=LENA, decision_id=old.id)


def test_only_legal_staff_propose(db, clock, platform, scenarios: Scenarios) -> None:
    filed = scenarios.french_judge_content_order()
    with db.transaction() as session, pytest.raises(Forbidden):
        policy.propose_decision(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(Role.AUDITOR),
            platform=platform,
            request_id=filed.request.id,
        )
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PolicyDecision)) == 0
        assert session.get(LawfulRequest, filed.request.id).state == RequestState.RECEIVED
