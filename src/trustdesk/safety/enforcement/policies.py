"""The platform's policies as versioned data (`policies.json`): what each forbids, how it maps
to the DSA database's category and keywords, whether breaking it is usually illegal (and
under which law), how heavy its strike is and for how long, and the strike thresholds that
lead to restrictions. Every decision records the version it was taken under."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from trustdesk.core.errors import InvalidInput
from trustdesk.safety.enforcement.actions import ActionKind
from trustdesk.safety.enforcement.dsa import Keyword, StatementCategory

POLICIES_FILE = Path(__file__).with_name("policies.json")


@dataclass(frozen=True)
class Policy:
    key: str
    title: str
    category: str
    keywords: tuple[str, ...]
    illegal: bool
    default_legal_ground: str | None
    strike_weight: int
    strike_days: int
    cybertipline: bool


@dataclass(frozen=True)
class StrikeThreshold:
    points: int
    action: ActionKind
    days: int | None


@dataclass(frozen=True)
class PolicyBook:
    version: str
    source: str
    reference_url: str
    policies: dict[str, Policy]
    thresholds: tuple[StrikeThreshold, ...]

    def get(self, key: str) -> Policy:
        """The policy named `key`; a clear error naming the valid ones otherwise."""
        try:
            return self.policies[key]
        except KeyError:
            raise InvalidInput(f"Unknown policy '{key}'. Valid: {', '.join(sorted(self.policies))}.", field="policy") from None


def _policy(raw: dict) -> Policy:
    policy = Policy(
        key=raw["key"],
        title=raw["title"],
        category=StatementCategory(raw["category"]).value,
        keywords=tuple(Keyword(k).value for k in raw["keywords"]),
        illegal=bool(raw["illegal"]),
        default_legal_ground=raw["default_legal_ground"],
        strike_weight=int(raw["strike_weight"]),
        strike_days=int(raw["strike_days"]),
        cybertipline=bool(raw["cybertipline"]),
    )
    if policy.strike_weight < 0 or policy.strike_days <= 0:
        raise ValueError(f"policy {policy.key}: strike weight must be >= 0 and days > 0")
    return policy


@cache
def load_policies(path: Path = POLICIES_FILE) -> PolicyBook:
    """Read and check the file once: an unknown DSA value fails here, at start, not when a
    statement is rejected months later."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    thresholds = tuple(
        StrikeThreshold(points=int(t["points"]), action=ActionKind(t["action"]), days=t["days"])
        for t in sorted(raw["strike_thresholds"], key=lambda t: t["points"])
    )
    policies = {p["key"]: _policy(p) for p in raw["policies"]}
    return PolicyBook(
        version=raw["version"], source=raw["source"], reference_url=raw["reference_url"], policies=policies, thresholds=thresholds
    )
