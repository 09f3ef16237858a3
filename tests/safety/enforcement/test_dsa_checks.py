"""Trustdesk's own checks of a statement against the record (issue #22, item 5): planted
faults are held back before they leave, a person's fix is checked the same way, and the
self-audit finds what was submitted untrue, actions without a statement, and statements
still not in the database a day on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.doubles.dsa_database import BACKENDS, DsaBackend, dsa_backend
from tests.safety.enforcement.test_dsa_submission import remove_drug_ad
from tests.safety.review import factories
from tests.safety.review.factories import TEST_ACTOR, reviewer
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.safety.enforcement import dsa_checks, dsa_submission
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.reports import service as reports
from trustdesk.safety.review import decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.decisions import Plan

cast, platform, session = factories.cast, factories.platform, factories.session


@pytest.fixture(params=BACKENDS)
def dsa(request: pytest.FixtureRequest) -> Iterator[DsaBackend]:
    with dsa_backend(request.param) as dsa:
        yield dsa


def plant(statement: StatementOfReasons, **change: object) -> dict:
    payload = {**statement.payload, **change}
    statement.payload = payload
    return payload


def trusted_flagger_removal(session, clock, platform, cast) -> EnforcementAction:  # type: ignore[no-untyped-def]
    """A trusted flagger's notice, decided by a reviewer: the removal it led to."""
    rita = reviewer(session, clock, "rita", "illegal_goods", "trusted_flaggers")
    flagger = reports.register_trusted_flagger(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        organisation="Drug Watch e.V.",
        fields=["drugs_weapons"],
        email="tf@example.org",
        awarded_by="DSC Ireland",
    )
    notice = reports.submit_notice(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        reason="drugs_weapons",
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        explanation="Selling drugs.",
        good_faith=True,
        flagger=flagger,
    )
    assert notice.case_id is not None
    review.claim(session, principal=rita.principal, actor=rita.actor, clock=clock, case_id=notice.case_id)
    decision = decisions.decide(
        session,
        principal=rita.principal,
        actor=rita.actor,
        clock=clock,
        platform=platform,
        case_id=notice.case_id,
        plan=Plan(
            outcome="action", action="remove_message", policy="illegal_goods", reason="Drug sales.", legal_ground="BtMG § 29"
        ),
    )
    action = session.get(EnforcementAction, decision.action_id)
    assert action is not None and action.statement is not None
    return action


def test_a_planted_inverted_automated_flag_is_held_and_never_sent(session, clock, platform, cast, dsa) -> None:
    action = remove_drug_ad(session, clock, platform, cast)  # a person decided on a user's notice
    assert dsa_checks.check(action.statement.payload, dsa_checks.happened_for(session, [action])[action.id]) == {}
    inverted = plant(action.statement, automated_detection="Yes", automated_decision="AUTOMATED_DECISION_FULLY")
    summary = dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    statement = action.statement
    assert summary.held == 1 and statement.dsa_state == "held" and statement.puid not in dsa.held
    assert set(statement.dsa_errors) == {"automated_detection", "automated_decision"}
    assert "decided by" in statement.dsa_errors["automated_decision"][0]
    assert statement in dsa_submission.rejected_statements(session)  # waiting for a person in the console
    with pytest.raises(InvalidInput) as refused:  # a person cannot send the inverted flag on either
        dsa_submission.revise_statement(session, actor=TEST_ACTOR, clock=clock, statement_id=statement.id, payload=inverted)
    assert "automated_detection" in refused.value.extensions["errors"]
    fixed = {**inverted, "automated_detection": "No", "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED"}
    dsa_submission.revise_statement(session, actor=TEST_ACTOR, clock=clock, statement_id=statement.id, payload=fixed)
    assert dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database).submitted == 1
    assert statement.dsa_state == "submitted" and dsa.held[statement.puid] == statement.dsa_uuid
    with pytest.raises(Conflict):
        dsa_submission.revise_statement(session, actor=TEST_ACTOR, clock=clock, statement_id=statement.id, payload=fixed)


def test_an_unlabelled_trusted_flagger_statement_is_held(session, clock, platform, cast, dsa) -> None:
    action = trusted_flagger_removal(session, clock, platform, cast)
    assert action.statement.payload["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    # As on the platform whose trusted flaggers went unlabelled: the decision recorded as an
    # ordinary notice, the statement saying so; the notice on the case says otherwise.
    action.source = "notice"
    unlabelled = dict(action.statement.payload, source_type="SOURCE_ARTICLE_16")
    unlabelled.pop("source_identity", None)
    action.statement.payload = unlabelled
    summary = dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    assert summary.held == 1 and action.statement.dsa_state == "held" and action.statement.puid not in dsa.held
    [message] = action.statement.dsa_errors["source_type"]
    assert "Drug Watch e.V." in message and "SOURCE_TRUSTED_FLAGGER" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"territorial_scope": ["DE"]}, "territorial_scope"),  # a removal applies everywhere
        ({"application_date": "2026-01-02"}, "application_date"),
        ({"content_date": "2026-12-31"}, "content_date"),
        ({"end_date_visibility_restriction": "2026-05-01"}, "end_date_visibility_restriction"),  # a removal has no end
        ({"category": "STATEMENT_CATEGORY_ANIMAL_WELFARE"}, "category"),
        ({"category_specification": ["KEYWORD_HATE_SPEECH"]}, "category_specification"),
        ({"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]}, "decision_visibility"),
    ],
)
def test_each_check_names_the_field_that_disagrees(session, clock, platform, cast, change, field) -> None:
    action = remove_drug_ad(session, clock, platform, cast)
    errors = dsa_checks.check({**action.statement.payload, **change}, dsa_checks.happened_for(session, [action])[action.id])
    assert field in errors and all(m.startswith("Says") or "not among" in m or "before" in m for m in errors[field])


def test_a_restriction_limited_to_some_countries_must_say_which(session, clock, platform, cast) -> None:
    action = enforcement.take_action(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        subject_kind="message",
        subject_id=cast.messages["drug_ad"],
        action="geo_restrict",
        policy="illegal_goods",
        automated=False,
        source="legal",
        reason="Unlawful under German law.",
        legal_ground="BtMG § 29",
        territorial_scope=["DE", "AT"],
    )
    happened = dsa_checks.happened_for(session, [action])[action.id]
    assert action.statement.payload["territorial_scope"] == ["AT", "DE"]
    assert dsa_checks.check(action.statement.payload, happened) == {}
    everywhere = {**action.statement.payload, "territorial_scope": sorted(["AT", "DE", "FR"])}
    assert "only in AT, DE" in dsa_checks.check(everywhere, happened)["territorial_scope"][0]


def test_the_self_audit_lists_what_to_correct(session, clock, platform, cast, dsa) -> None:
    first = remove_drug_ad(session, clock, platform, cast)
    dsa_submission.submit_pending(session, actor=TEST_ACTOR, clock=clock, dsa_database=dsa.database)
    clean = dsa_submission.self_audit(session, actor=TEST_ACTOR, clock=clock)
    assert clean.checked == 2 and clean.discrepancies == []  # the removal and the strike-threshold restriction
    # What an older version submitted: the automated flag inverted; and an action whose
    # statement never came; and one the database still does not hold two days on.
    plant(first.statement, automated_detection="Yes")
    orphan = EnforcementAction(**{c: getattr(first, c) for c in ("subject_kind", "subject_id", "account_id", "action")},
                               policy=first.policy, policy_version=first.policy_version, decision_ground=first.decision_ground,
                               automated=False, source="notice", reason="x", actor="test", acted_at=clock.now(),
                               platform_ok=True, platform_detail="ok")  # fmt: skip
    session.add(orphan)
    spam = remove_drug_ad(session, clock, platform, cast, policy="spam", reason="Spam.")
    clock.advance(days=2)
    found = dsa_submission.self_audit(session, actor=TEST_ACTOR, clock=clock)
    kinds = {(d.kind, d.field, d.action_id) for d in found.discrepancies}
    assert ("untrue", "automated_detection", first.id) in kinds
    assert ("missing", "statement", orphan.id) in kinds
    assert ("stale", "dsa_state", spam.id) in kinds and "2 days" in next(
        d.message for d in found.discrepancies if d.kind == "stale"
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "dsa.self_audit").order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None and entry.details["discrepancies"] == len(found.discrepancies)
