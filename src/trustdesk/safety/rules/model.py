"""What a loaded rule set is: plain, immutable data plus the compiled condition of each rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from trustdesk.core.errors import InvalidInput


class RuleMode(StrEnum):
    LIVE = "live"  # effects happen
    SHADOW = "shadow"  # hits are recorded with what would have happened; nothing happens


class EffectKind(StrEnum):
    VERDICT = "verdict"
    ADD_LABEL = "add_label"
    REMOVE_LABEL = "remove_label"
    OPEN_CASE = "open_case"
    TAKE_ACTION = "take_action"
    ALERT = "alert"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rule file, where a person can find it."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleError(InvalidInput):
    """A rule file that cannot be loaded as written; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]), problems=[str(p) for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    args: dict[str, Any]
    line: int

    def describe(self) -> dict[str, Any]:
        return {"effect": str(self.kind), **{k: v for k, v in self.args.items()}}


class CounterSpec(NamedTuple):
    """`count("message", event.actor, 10m)`: events of `kind`, keyed by the value of `field`.
    A named tuple: it is a dictionary key on every counted event, and hashes in C."""

    kind: str
    field: str


Condition = Callable[[Any], bool]


@dataclass(frozen=True)
class CompiledRule:
    ruleset: str
    name: str
    version: int
    mode: RuleMode
    description: str
    line: int
    source: str
    digest: str
    when: Condition = field(repr=False, compare=False)
    effects: tuple[Effect, ...] = ()
    kinds: frozenset[str] | None = None  # None: any kind
    required_lists: tuple[tuple[str, str], ...] = ()  # (field, list): skip the rule unless hit
    required_fields: tuple[str, ...] = ()  # skip the rule when any of these is empty (text, media)
    required_patterns: tuple[tuple[str, str], ...] = ()  # (field, RE2 source): skip the rule unless found
    required_labels: tuple[tuple[str, str], ...] = ()  # (entity field, label): skip unless the entity holds it
    required_values: tuple[tuple[str, str], ...] = ()  # (field, string): skip unless the field equals it
    required_counts: tuple[tuple[CounterSpec, int, int], ...] = ()  # (counter, window s, minimum): skip below it
    whole: Condition | None = field(default=None, repr=False, compare=False)  # `when` with its guards, unplanned
    classifiers: tuple[str, ...] = ()  # the classifiers the condition calls: deciders beside the rule

    @property
    def ref(self) -> str:
        return f"{self.ruleset}/{self.name}@v{self.version}"

    @property
    def shadow(self) -> bool:
        return self.mode is RuleMode.SHADOW


@dataclass(frozen=True)
class KeywordList:
    name: str
    words: frozenset[str]  # single folded words, matched against the message's words
    phrases: tuple[str, ...]  # folded multi-word entries, matched on word boundaries
    line: int


@dataclass(frozen=True)
class RuleFile:
    """One parsed file: its rule set name and version, lists and rules, and the rules that
    were refused (with their problems) so the rest can still run."""

    path: str
    ruleset: str
    version: int
    digest: str
    lists: dict[str, KeywordList]
    rules: tuple[CompiledRule, ...]
    problems: tuple[Problem, ...] = ()
    counters: frozenset[CounterSpec] = frozenset()
    label_fields: frozenset[str] = frozenset()
    pdq_distance: int = -1  # the widest PDQ distance any rule asks for; -1: no PDQ rule
    patterns: frozenset[tuple[str, str]] = frozenset()  # every (text field, RE2 source) a rule matches
