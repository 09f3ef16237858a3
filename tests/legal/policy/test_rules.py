"""The policy file: well formed, every rule cited by a unique id, and a draft that would lower
the bar for a weaker tier is refused before it decides anything."""

from __future__ import annotations

import re

import pytest

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.policy.rules import POLICY, load_policy, parse_policy

TEXT = POLICY.read_text()


def test_the_shipped_policy_loads_with_a_version_and_four_eyes() -> None:
    policy = load_policy()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.\d+", policy.version)
    assert policy.approvals >= 2 and policy.link_hours > 0
    assert sorted(policy.tiers) == [1, 2, 3, 4]


def test_the_digest_changes_with_the_text() -> None:
    assert parse_policy(TEXT).sha256 != parse_policy(TEXT + "\n# edited\n").sha256


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'tier = 4\nid = "TIER-4"\ntext = "Very weak rule of law: two extra reviews, one by counsel; traffic and content only through an MLAT or CLOUD Act request."\nextra_reviews = 2',
            'tier = 4\nid = "TIER-4"\ntext = "Very weak"\nextra_reviews = 0',
            "fewer reviews",
        ),
        ('withhold = ["traffic", "content"]', "withhold = []", "release categories"),
        ('id = "DC-1"', 'id = "PE-1"', "used twice"),
        ('minimal = ["subscriber", "identification"]', 'minimal = ["subscriber", "passwords"]', "unknown data category"),
        (f'version = "{load_policy().version}"', "version = ", "not valid TOML"),
        ('[protected_expression]\nid = "PE-1"', '[not_protected]\nid = "PE-1"', "lacks the section"),
    ],
)
def test_a_bad_draft_is_refused_with_the_reason(old: str, new: str, message: str) -> None:
    assert old in TEXT
    with pytest.raises(InvalidInput, match=message):
        parse_policy(TEXT.replace(old, new, 1))


def test_four_eyes_can_never_be_set_below_two() -> None:
    assert parse_policy(TEXT.replace("approvals = 2", "approvals = 1")).approvals == 2
