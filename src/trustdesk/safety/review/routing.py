"""Routing: which queue a new case goes to, by policy (category), source, language and
severity, from the ordered rules in `queues.json` (first match wins)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

QUEUES_FILE = Path(__file__).with_name("queues.json")


@dataclass(frozen=True)
class QueueSpec:
    key: str
    name: str
    service_hours: int
    sensitive: bool
    description: str


@dataclass(frozen=True)
class Route:
    queue: str
    policies: frozenset[str] = field(default_factory=frozenset)
    sources: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)
    min_severity: int = 0

    def matches(self, *, policy: str | None, source: str, language: str | None, severity: int) -> bool:
        return (
            (not self.policies or policy in self.policies)
            and (not self.sources or source in self.sources)
            and (not self.languages or language in self.languages)
            and severity >= self.min_severity
        )


@dataclass(frozen=True)
class ReviewSetup:
    version: str
    queues: tuple[QueueSpec, ...]
    routes: tuple[Route, ...]
    escalation_targets: tuple[str, ...]


@cache
def load_setup(path: Path = QUEUES_FILE) -> ReviewSetup:
    raw = json.loads(path.read_text(encoding="utf-8"))
    queues = tuple(QueueSpec(**q) for q in raw["queues"])
    routes = tuple(
        Route(
            queue=r["queue"],
            policies=frozenset(r.get("policies", ())),
            sources=frozenset(r.get("sources", ())),
            languages=frozenset(r.get("languages", ())),
            min_severity=int(r.get("min_severity", 0)),
        )
        for r in raw["routing"]
    )
    keys = {q.key for q in queues}
    if not routes or routes[-1].policies or routes[-1].sources or routes[-1].languages or routes[-1].min_severity:
        raise ValueError("the last routing rule must match everything")
    if any(r.queue not in keys for r in routes) or not set(raw["escalation_targets"]) <= keys:
        raise ValueError("a routing rule or escalation target names an unknown queue")
    return ReviewSetup(version=raw["version"], queues=queues, routes=routes, escalation_targets=tuple(raw["escalation_targets"]))


def route(*, policy: str | None, source: str, language: str | None = None, severity: int = 0) -> str:
    """The queue for a new case."""
    for rule in load_setup().routes:
        if rule.matches(policy=policy, source=source, language=language, severity=severity):
            return rule.queue
    raise AssertionError("unreachable: the last rule matches everything")
