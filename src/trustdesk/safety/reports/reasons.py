"""Report reasons: the taxonomy a notifier picks from, each mapped to one of the platform's
policies (and so to a DSA category), with a severity for routing and whether the notifier
may stay anonymous (Art. 16(2)(c) DSA: only for child sexual abuse material)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.enforcement.policies import load_policies

REASONS_FILE = Path(__file__).with_name("reasons.json")


@dataclass(frozen=True)
class ReportReason:
    key: str
    group: str
    label: str
    policy: str
    severity: int
    anonymous_allowed: bool


@cache
def load_reasons(path: Path = REASONS_FILE) -> dict[str, ReportReason]:
    """Read and check against the policy book: a reason naming no policy fails at start."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    reasons = {r["key"]: ReportReason(**r) for r in raw["reasons"]}
    book = load_policies()
    for reason in reasons.values():
        book.get(reason.policy)
        if not 0 <= reason.severity <= 5:
            raise ValueError(f"reason {reason.key}: severity runs 0 to 5")
    return reasons


def get_reason(key: str) -> ReportReason:
    reasons = load_reasons()
    if key not in reasons:
        raise InvalidInput(f"Unknown report reason '{key}'. Valid: {', '.join(reasons)}.", field="reason")
    return reasons[key]
