"""The rules in force: every loaded file merged, with the indexes that let one event meet a
hundred rules cheaply. Keyword lists are folded into one word index (an event's words are
looked up once, whatever the number of lists) and each rule is filed under the event kinds
it can match, so most rules are never called for most events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from trustdesk.safety.pipeline.events import EventKind
from trustdesk.safety.rules.model import CompiledRule, CounterSpec, EffectKind, KeywordList, RuleFile
from trustdesk.safety.rules.patterns import PatternSet, pattern_sets


@dataclass(frozen=True)
class Plan:
    """The rules one event kind can meet, split by what must be true before they are worth
    calling: nothing (`plain`), media on the event (`media`), a keyword list hit
    (`by_list`, filed under the rule's first required list), a pattern found
    (`by_pattern`, under its first required pattern), a label on an entity (`by_label`,
    under its first required label) or a field's value (`by_value`, under its first
    `event.<field> == "..."`) or a counter's reach (`by_count`: `count(...) > N`, called
    only once the counter over its widest window is past N)."""

    plain: tuple[CompiledRule, ...] = ()
    media: tuple[CompiledRule, ...] = ()
    by_list: dict[tuple[str, str], tuple[CompiledRule, ...]] = field(default_factory=dict)
    list_fields: tuple[str, ...] = ()
    by_pattern: dict[tuple[str, str], tuple[CompiledRule, ...]] = field(default_factory=dict)
    pattern_fields: tuple[str, ...] = ()
    by_label: dict[tuple[str, str], tuple[CompiledRule, ...]] = field(default_factory=dict)
    label_fields: tuple[str, ...] = ()
    by_value: dict[tuple[str, str], tuple[CompiledRule, ...]] = field(default_factory=dict)
    value_fields: tuple[str, ...] = ()
    # counter -> (widest window asked, (minimum, rule) by rising minimum)
    by_count: dict[CounterSpec, tuple[int, tuple[tuple[int, CompiledRule], ...]]] = field(default_factory=dict)


def _plan(rules: tuple[CompiledRule, ...]) -> Plan:
    plain, media = [], []
    by_list, by_pattern, by_label, by_value = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
    by_count: dict[CounterSpec, list[CompiledRule]] = defaultdict(list)
    for rule in rules:
        if rule.required_lists:
            by_list[rule.required_lists[0]].append(rule)
        elif rule.required_patterns:
            by_pattern[rule.required_patterns[0]].append(rule)
        elif rule.required_labels:
            by_label[rule.required_labels[0]].append(rule)
        elif "media" in rule.required_fields:
            media.append(rule)
        elif rule.required_values:
            by_value[rule.required_values[0]].append(rule)
        elif rule.required_counts:
            by_count[rule.required_counts[0][0]].append(rule)
        else:
            plain.append(rule)
    counted = {}
    for spec, filed in by_count.items():
        guards = [r.required_counts[0] for r in filed]  # the guard each was filed under
        ordered = sorted(zip((g[2] for g in guards), filed, strict=True), key=lambda pair: pair[0])
        counted[spec] = (max(g[1] for g in guards), tuple(ordered))
    return Plan(tuple(plain), tuple(media), *_filed(by_list), *_filed(by_pattern), *_filed(by_label), *_filed(by_value), counted)


def _filed(
    rules: dict[tuple[str, str], list[CompiledRule]],
) -> tuple[dict[tuple[str, str], tuple[CompiledRule, ...]], tuple[str, ...]]:
    """Rules filed under (field, key), and the fields to look at, in first-use order."""
    return {k: tuple(v) for k, v in rules.items()}, tuple(dict.fromkeys(f for f, _ in rules))


@dataclass(frozen=True)
class RuleSet:
    files: tuple[RuleFile, ...]
    rules: tuple[CompiledRule, ...]
    words: dict[str, frozenset[str]]  # folded word -> lists (ruleset:name) that hold it
    phrases: tuple[tuple[str, str], ...]  # (" folded phrase ", list)
    phrase_heads: dict[str, tuple[tuple[str, str], ...]]  # first word -> its phrases
    by_kind: dict[str, tuple[CompiledRule, ...]]
    plans: dict[str, Plan]
    order: dict[int, int]  # id(rule) -> position in the files
    counters: frozenset[CounterSpec]
    uses_labels: bool
    label_effects: bool
    label_fields: frozenset[str] = field(default_factory=frozenset)
    pdq_distance: int = -1
    patterns: dict[str, PatternSet] = field(default_factory=dict)  # text field -> every pattern on it

    @property
    def version(self) -> str:
        """One string naming every file's ruleset and version, recorded with each hit."""
        return ",".join(f"{f.ruleset}@{f.version}" for f in self.files) or "empty"

    def rule(self, name: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.name == name), None)


def qualified(ruleset: str, list_name: str) -> str:
    return f"{ruleset}:{list_name}"


def build_ruleset(files: list[RuleFile]) -> RuleSet:
    counters = {c for f in files for c in f.counters}
    label_fields = {x for f in files for x in f.label_fields}
    rules = tuple(r for f in files for r in f.rules)
    words: dict[str, set[str]] = defaultdict(set)
    phrases: list[tuple[str, str]] = []
    for file in files:
        for keyword_list in file.lists.values():
            _index_list(file.ruleset, keyword_list, words, phrases)
    by_kind = {kind.value: tuple(r for r in rules if r.kinds is None or kind.value in r.kinds) for kind in EventKind}
    label_effect = any(e.kind in (EffectKind.ADD_LABEL, EffectKind.REMOVE_LABEL) for r in rules for e in r.effects)
    return RuleSet(
        files=tuple(files),
        rules=rules,
        words={w: frozenset(ls) for w, ls in words.items()},
        phrases=tuple(phrases),
        phrase_heads=_heads(phrases),
        by_kind=by_kind,
        plans={k: _plan(v) for k, v in by_kind.items()},
        order={id(r): i for i, r in enumerate(rules)},
        counters=frozenset(counters or ()),
        uses_labels=bool(label_fields),
        label_effects=label_effect,
        label_fields=frozenset(label_fields or ()),
        pdq_distance=max([-1, *(f.pdq_distance for f in files)]),
        patterns=pattern_sets(p for f in files for p in f.patterns),
    )


def _heads(phrases: list[tuple[str, str]]) -> dict[str, tuple[tuple[str, str], ...]]:
    heads: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for phrase, name in phrases:
        heads[phrase.split()[0]].append((phrase, name))
    return {head: tuple(found) for head, found in heads.items()}


def _index_list(ruleset: str, keyword_list: KeywordList, words: dict[str, set[str]], phrases: list[tuple[str, str]]) -> None:
    name = qualified(ruleset, keyword_list.name)
    for word in keyword_list.words:
        words[word].add(name)
    phrases.extend((f" {phrase} ", name) for phrase in keyword_list.phrases)
