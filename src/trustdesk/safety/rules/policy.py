"""The automation policy: which automatic actions a rule may take without a person, and on
what evidence. Data, not code (`data/automation.toml`, versioned, with its reasons), checked
when a rule is loaded: a rule that asks for an action the policy does not allow is refused."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

POLICY_FILE = Path(__file__).parent / "data" / "automation.toml"
ACTIONS = frozenset({"remove_message", "restrict_account", "suspend_account", "close_chat"})


@dataclass(frozen=True)
class Allowance:
    action: str
    policy: str
    banks: frozenset[str]
    max_distance: int
    why: str


@dataclass(frozen=True)
class AutomationPolicy:
    version: str
    source: str
    allowances: tuple[Allowance, ...]

    def find(self, action: str, policy: str) -> Allowance | None:
        return next((a for a in self.allowances if a.action == action and a.policy == policy), None)


@cache
def automation_policy(path: Path = POLICY_FILE) -> AutomationPolicy:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    allowances = tuple(
        Allowance(a["action"], a["policy"], frozenset(a["banks"]), int(a["max_distance"]), a["why"]) for a in data["automation"]
    )
    unknown = {a.action for a in allowances} - ACTIONS
    if unknown:
        raise ValueError(f"{path}: unknown actions {sorted(unknown)}; known: {sorted(ACTIONS)}")
    return AutomationPolicy(str(data["version"]), data["source"], allowances)
