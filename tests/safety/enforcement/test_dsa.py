"""The DSA database's value sets and rules, as Trustdesk carries them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.safety.enforcement import dsa
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.reports.reasons import load_reasons

CONFORMANCE = Path(__file__).resolve().parents[3].parent / "shared" / "conformance" / "dsa" / "statement-enums.json"
ENUMS = {
    "ACCOUNT_TYPES": dsa.AccountType,
    "SOURCE_TYPES": dsa.SourceType,
    "CONTENT_TYPES": dsa.ContentType,
    "AUTOMATED_DETECTIONS": dsa.YesNo,
    "AUTOMATED_DECISIONS": dsa.AutomatedDecision,
    "DECISION_GROUNDS": dsa.DecisionGround,
    "INCOMPATIBLE_CONTENT_ILLEGALS": dsa.YesNo,
    "DECISION_VISIBILITIES": dsa.DecisionVisibility,
    "DECISION_MONETARIES": dsa.DecisionMonetary,
    "DECISION_PROVISIONS": dsa.DecisionProvision,
    "DECISION_ACCOUNTS": dsa.DecisionAccount,
    "STATEMENT_CATEGORIES": dsa.StatementCategory,
    "KEYWORDS": dsa.Keyword,
}

VALID = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Spam policy",
    "incompatible_content_explanation": "Bulk advertising",
    "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "content_type": ["CONTENT_TYPE_TEXT"],
    "content_date": "2026-03-01",
    "application_date": "2026-03-02",
    "decision_facts": "Reported and reviewed.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    "puid": "td-abc_123",
}


@pytest.mark.skipif(not CONFORMANCE.exists(), reason="../shared/conformance/dsa is not on this machine")
def test_value_sets_are_exactly_the_databases() -> None:
    published = json.loads(CONFORMANCE.read_text())
    assert set(published) == set(ENUMS)
    for name, enum in ENUMS.items():
        assert [m.value for m in enum] == published[name], name


def test_the_policy_book_and_report_reasons_use_only_published_values() -> None:
    book = load_policies()
    for policy in book.policies.values():
        assert policy.category in {m.value for m in dsa.StatementCategory}
        assert set(policy.keywords) <= {m.value for m in dsa.Keyword}
    assert {r.policy for r in load_reasons().values()} <= set(book.policies)
    assert [t.points for t in book.thresholds] == sorted(t.points for t in book.thresholds)


def test_a_complete_statement_is_accepted() -> None:
    assert validate_statement(dict(VALID)) == {}


@given(st.sampled_from(dsa.REQUIRED))
def test_each_required_field_is_required(field: str) -> None:
    statement = {k: v for k, v in VALID.items() if k != field}
    assert field in validate_statement(statement)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"}, "illegal_content_legal_ground"),
        ({"illegal_content_legal_ground": "StGB"}, "illegal_content_legal_ground"),
        ({"incompatible_content_ground": None}, "incompatible_content_ground"),
        ({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other"),
        ({"decision_visibility_other": "x"}, "decision_visibility_other"),
        ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other"),
        ({"source_type": "SOURCE_VOLUNTARY", "source_identity": "Someone"}, "source_identity"),
        ({"decision_facts": "x" * 5001}, "decision_facts"),
        ({"incompatible_content_explanation": "x" * 2001}, "incompatible_content_explanation"),
        ({"content_date": "1999-12-31"}, "content_date"),
        ({"application_date": "2019-12-31", "content_date": "2019-01-01"}, "application_date"),
        ({"application_date": "2038-01-02"}, "application_date"),
        ({"content_date": "2026-03-03"}, "content_date"),
        ({"content_date": "2026-02-30"}, "content_date"),
        ({"puid": "has space"}, "puid"),
        ({"puid": "x" * 501}, "puid"),
        ({"category": "STATEMENT_CATEGORY_PIRACY"}, "category"),
        ({"automated_detection": "yes"}, "automated_detection"),
        ({"category_specification": ["KEYWORD_NOPE"]}, "category_specification"),
        ({"territorial_scope": ["DE", "GB"]}, "territorial_scope"),
        ({"territorial_scope": ["EL"]}, "territorial_scope"),
        ({"decision_visibility": None}, "decision_visibility"),
        ({"content_language": "english"}, "content_language"),
    ],
)
def test_each_published_rule_is_enforced(change: dict, field: str) -> None:
    statement = {**VALID, **change}
    statement = {k: v for k, v in statement.items() if v is not None}
    assert field in validate_statement(statement)


def test_other_decision_kinds_satisfy_the_one_of_rule() -> None:
    statement = {k: v for k, v in VALID.items() if k != "decision_visibility"} | {
        "decision_account": "DECISION_ACCOUNT_SUSPENDED"
    }
    assert validate_statement(statement) == {}


@given(
    st.dictionaries(
        st.text(max_size=30), st.one_of(st.none(), st.text(max_size=20), st.integers(), st.lists(st.text(max_size=5)))
    )
)
def test_odd_input_never_raises(statement: dict) -> None:
    assert isinstance(validate_statement(statement), dict)
