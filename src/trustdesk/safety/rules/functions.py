"""The closed set of functions a condition may call. Each entry checks its arguments at load
time and returns the closure that asks the event context (`pipeline.signals.EventContext`)
for the signal. Adding a signal means adding one entry here and one method there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Tree

from trustdesk.safety.rules.conditions import (
    CompileError,
    ConditionCompiler,
    Fn,
    compile_regex,
    entity_field,
    event_kind,
    literal_duration,
    literal_int,
    literal_string,
    text_field,
)
from trustdesk.safety.rules.model import CounterSpec

Builder = Callable[[ConditionCompiler, Tree, list[Tree], dict[str, Tree]], tuple[Fn, str]]
PDQ_MAX_DISTANCE = 64


def _arity(node: Tree, args: list[Tree], keywords: dict[str, Tree], n: int, allowed: tuple[str, ...] = ()) -> None:
    name = str(node.children[0])
    if len(args) != n:
        raise CompileError(node, f"{name}() takes {n} argument{'s' if n != 1 else ''}, not {len(args)}")
    extra = set(keywords) - set(allowed)
    if extra:
        raise CompileError(node, f"{name}() has no option {sorted(extra)[0]}=; options: {', '.join(allowed) or 'none'}")


def contains_any(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 2)
    field = text_field(args[0])
    if not (isinstance(args[1], Tree) and args[1].data == "name"):
        raise CompileError(args[1], "contains_any() needs the name of a declared list as its second argument")
    listed = str(args[1].children[0])
    if listed not in cc.scope.lists:
        raise CompileError(args[1], f"no list named {listed!r} (declare it with: list {listed} = [...])")
    name = f"{cc.scope.namespace}:{listed}"
    return (lambda c: c.list_hit(field, name)), "bool"


def matches(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 2)
    field, source = text_field(args[0]), compile_regex(args[1])
    cc.scope.patterns.add((field, source))
    return (lambda c: c.pattern_hit(field, source)), "bool"


def classify(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    """`classify("spam", event.text)`: the classifier's score of its positive label;
    `classify("moderation", event.text, label="hate")`: of the label named."""
    _arity(node, args, kw, 2, ("label",))
    name, field = literal_string(args[0], "the classifier"), text_field(args[1])
    if name not in cc.scope.classifiers:
        raise CompileError(args[0], f"no classifier named {name!r}; known: {', '.join(sorted(cc.scope.classifiers)) or 'none'}")
    cc.scope.used_classifiers.add(name)
    label = literal_string(kw["label"], "the label") if "label" in kw else None
    if label is not None and not label.strip():
        raise CompileError(kw["label"], "label= names a label of the classifier")
    if label is None:
        return (lambda c: c.classify(name, field)), "number"
    return (lambda c: c.classify(name, field, label)), "number"


def hash_match(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 1, ("max_distance",))
    bank = literal_string(args[0], "the bank")
    distance = literal_int(kw["max_distance"], "max_distance", 0, PDQ_MAX_DISTANCE) if "max_distance" in kw else 31
    cc.scope.banks[bank] = max(distance, cc.scope.banks.get(bank, 0))
    return (lambda c: c.hash_match(bank, distance)), "bool"


def hash_match_exact(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 1)
    bank = literal_string(args[0], "the bank")
    cc.scope.exact_banks.add(bank)
    return (lambda c: c.hash_exact(bank)), "bool"


def counter_of(args: list[Tree]) -> tuple[CounterSpec, int]:
    """`count(kind, event.field, window)`'s counter and window in seconds."""
    return CounterSpec(event_kind(args[0]), entity_field(args[1])), literal_duration(args[2], "the window")


def count(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 3)
    spec, window = counter_of(args)
    cc.scope.counters.add(spec)
    return (lambda c: c.count(spec, window)), "number"


def has_label(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 2)
    field, label = entity_field(args[0]), literal_string(args[1], "the label")
    cc.scope.label_fields.add(field)
    return (lambda c: c.has_label(field, label)), "bool"


def length(cc: ConditionCompiler, node: Tree, args: list[Tree], kw: dict[str, Tree]) -> tuple[Fn, str]:
    _arity(node, args, kw, 1)
    field = text_field(args[0])

    def measure(c: Any) -> int:
        value = getattr(c.event, field, None)
        return len(value) if value else 0

    return measure, "number"


FUNCTIONS: dict[str, Builder] = {
    "contains_any": contains_any,
    "matches": matches,
    "classify": classify,
    "hash_match": hash_match,
    "hash_match_exact": hash_match_exact,
    "count": count,
    "has_label": has_label,
    "length": length,
}
