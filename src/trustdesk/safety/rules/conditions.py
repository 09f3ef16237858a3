"""Compiles a rule's `when` from its syntax tree into nested closures, once, at load time.

Each node becomes `(function of the event context, type)`; types are checked here so that a
rule which compares text with a number, or calls a function that does not exist, is refused
with its line instead of misbehaving on live traffic. Nothing here evaluates user text as
Python."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from trustdesk.safety.pipeline.events import ENTITY_FIELDS, EVENT_FIELDS, TEXT_FIELDS, EventKind
from trustdesk.safety.rules.model import CounterSpec, KeywordList
from trustdesk.safety.rules.patterns import PatternError, compile_pattern

Fn = Callable[[Any], Any]
COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = 7 * 86400
NUMERIC_FIELDS = frozenset({"media_count"})


class CompileError(Exception):
    def __init__(self, node: Tree | Token, message: str) -> None:
        super().__init__(message)
        self.line = getattr(node, "line", None) or getattr(getattr(node, "meta", None), "line", 0) or 0
        self.column = getattr(node, "column", None) or getattr(getattr(node, "meta", None), "column", 0) or 0


@dataclass
class Scope:
    """What names a rule may use, and what its compilation needed."""

    lists: dict[str, KeywordList]
    classifiers: frozenset[str]
    namespace: str = ""
    label_fields: set[str] = field(default_factory=set)
    counters: set[CounterSpec] = field(default_factory=set)
    banks: dict[str, int] = field(default_factory=dict)  # bank -> widest distance asked for
    exact_banks: set[str] = field(default_factory=set)
    patterns: set[tuple[str, str]] = field(default_factory=set)  # (text field, RE2 source)
    used_classifiers: set[str] = field(default_factory=set)  # the classifiers the rule's condition calls


def token_of(node: Tree, index: int = 0) -> Token:
    """The child of `node` at `index`, where the grammar puts a token (lark types every child
    as a token or a tree)."""
    child = node.children[index]
    if not isinstance(child, Token):
        raise CompileError(node, f"expected a token in {node.data}, not a {child.data}")
    return child


def string_value(node: Tree | Token) -> str:
    token = token_of(node) if isinstance(node, Tree) else node
    text = str(token)
    if token.type == "RAW_STRING":
        return text[1:-1]
    return bytes(text[1:-1], "utf-8").decode("unicode_escape") if "\\" in text else text[1:-1]


def duration_seconds(token: Token) -> int:
    return int(token[:-1]) * UNITS[token[-1]]


def field_name(node: Tree) -> str:
    parts = [str(t) for t in node.children]
    if parts[0] != "event" or len(parts) != 2:
        raise CompileError(node, f"unknown field {'.'.join(parts)!r}: fields are written event.<name>")
    if parts[1] not in EVENT_FIELDS:
        raise CompileError(node, f"events have no field {parts[1]!r}; known: {', '.join(sorted(EVENT_FIELDS))}")
    return parts[1]


class ConditionCompiler:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def compile(self, node: Tree | Token) -> tuple[Fn, str]:
        method = getattr(self, f"_{node.data}", None) if isinstance(node, Tree) else None
        if method is None:
            raise CompileError(node, f"this cannot stand in a condition: {node}")
        return method(node)

    def boolean(self, node: Tree) -> Fn:
        fn, kind = self.compile(node)
        if kind != "bool":
            raise CompileError(node, f"expected a true/false condition here, got a {kind}")
        return fn

    def _or_(self, node: Tree) -> tuple[Fn, str]:
        a, b = (self.boolean(c) for c in node.children)
        return (lambda c: a(c) or b(c)), "bool"

    def _and_(self, node: Tree) -> tuple[Fn, str]:
        a, b = (self.boolean(c) for c in node.children)
        return (lambda c: a(c) and b(c)), "bool"

    def _not_(self, node: Tree) -> tuple[Fn, str]:
        a = self.boolean(node.children[0])
        return (lambda c: not a(c)), "bool"

    def _compare(self, node: Tree) -> tuple[Fn, str]:
        left, op, right = node.children
        (a, ta), (b, tb) = self.compile(left), self.compile(right)
        if {ta, tb} - {"number", "string", "field", "bool"} or ("number" in (ta, tb) and "string" in (ta, tb)):
            raise CompileError(node, f"cannot compare a {ta} with a {tb}")
        cmp = COMPARATORS[str(op)]
        if isinstance(right, Tree) and right.data in ("number", "string", "duration"):
            return _against_constant(cmp, str(op), a, b(None), numeric=ta == "number"), "bool"
        if str(op) in ("==", "!="):
            return (lambda c: cmp(a(c), b(c))), "bool"
        return (lambda c: _ordered(cmp, a(c), b(c))), "bool"

    def _in_(self, node: Tree) -> tuple[Fn, str]:
        (a, _), (b, tb) = (self.compile(c) for c in node.children)
        if tb != "array":
            raise CompileError(node, '\'in\' needs a list in brackets on its right: event.kind in ["message", "media"]')
        return (lambda c: a(c) in b(c)), "bool"

    def _number(self, node: Tree) -> tuple[Fn, str]:
        text = str(node.children[0])
        value = float(text) if any(ch in text for ch in ".eE") else int(text)
        return (lambda c: value), "number"

    def _string(self, node: Tree) -> tuple[Fn, str]:
        value = string_value(node)
        return (lambda c: value), "string"

    def _duration(self, node: Tree) -> tuple[Fn, str]:
        seconds = duration_seconds(token_of(node))
        return (lambda c: seconds), "duration"

    def _true(self, node: Tree) -> tuple[Fn, str]:
        return (lambda c: True), "bool"

    def _false(self, node: Tree) -> tuple[Fn, str]:
        return (lambda c: False), "bool"

    def _array(self, node: Tree) -> tuple[Fn, str]:
        items = [c for c in node.children if c is not None]
        if not all(isinstance(c, Tree) and c.data in ("string", "number") for c in items):
            raise CompileError(node, "a list in brackets holds only strings or numbers")
        values = frozenset(self.compile(c)[0](None) for c in items)
        return (lambda c: values), "array"

    def _name(self, node: Tree) -> tuple[Fn, str]:
        name = str(node.children[0])
        if name not in self.scope.lists:
            raise CompileError(node, f"no list named {name!r} (lists must be declared before the rules that use them)")
        return (lambda c: name), "list"

    def _field(self, node: Tree) -> tuple[Fn, str]:
        name = field_name(node)
        getter = operator.attrgetter(name) if name != "media_count" else None

        def value(c: Any) -> Any:
            return len(getattr(c.event, "media", ())) if getter is None else getattr(c.event, name, None)

        return value, "number" if name in NUMERIC_FIELDS else "field"

    def _call(self, node: Tree) -> tuple[Fn, str]:
        from trustdesk.safety.rules.functions import FUNCTIONS

        name = str(node.children[0])
        if name not in FUNCTIONS:
            raise CompileError(node, f"unknown function {name!r}; known: {', '.join(sorted(FUNCTIONS))}")
        args, keywords = split_args(node)
        return FUNCTIONS[name](self, node, args, keywords)


def _against_constant(cmp: Callable[[Any, Any], bool], op: str, a: Fn, value: Any, *, numeric: bool = False) -> Fn:
    """The common shape `count(...) > 40`, `length(event.text) > 60`: the constant is read
    once at load, and the comparison costs one call less per event. A number-valued left
    side (a function's result, event.media_count) is never None, and compares inline."""
    if numeric and op in _INLINE:
        return _INLINE[op](a, value)
    if op in ("==", "!="):
        return lambda c: cmp(a(c), value)

    def ordered(c: Any) -> bool:
        left = a(c)
        return left is not None and cmp(left, value)

    return ordered


_INLINE: dict[str, Callable[[Fn, Any], Fn]] = {
    ">": lambda a, v: lambda c: a(c) > v,
    ">=": lambda a, v: lambda c: a(c) >= v,
    "<": lambda a, v: lambda c: a(c) < v,
    "<=": lambda a, v: lambda c: a(c) <= v,
    "==": lambda a, v: lambda c: a(c) == v,
    "!=": lambda a, v: lambda c: a(c) != v,
}


def _ordered(cmp: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return cmp(a, b)


def split_args(node: Tree) -> tuple[list[Tree], dict[str, Tree]]:
    args: list[Tree] = []
    keywords: dict[str, Tree] = {}
    for child in node.children[1:]:
        if child is None:
            continue
        if isinstance(child, Tree) and child.data == "keyword":
            key = str(child.children[0])
            if key in keywords:
                raise CompileError(child, f"{key}= given twice")
            keywords[key] = child.children[1]
        elif keywords:
            raise CompileError(child, "positional arguments come before name=value ones")
        else:
            args.append(child)
    return args, keywords


def text_field(node: Tree) -> str:
    if not (isinstance(node, Tree) and node.data == "field"):
        raise CompileError(node, f"expected a text field such as event.text; text fields: {', '.join(sorted(TEXT_FIELDS))}")
    name = field_name(node)
    if name not in TEXT_FIELDS:
        raise CompileError(node, f"event.{name} is not text; text fields: {', '.join(sorted(TEXT_FIELDS))}")
    return name


def entity_field(node: Tree) -> str:
    if not (isinstance(node, Tree) and node.data == "field") or field_name(node) not in ENTITY_FIELDS:
        raise CompileError(node, f"expected an entity: {', '.join('event.' + f for f in ENTITY_FIELDS)}")
    return field_name(node)


def literal_string(node: Tree, what: str) -> str:
    if not (isinstance(node, Tree) and node.data == "string"):
        raise CompileError(node, f"{what} must be a string in quotes")
    return string_value(node)


def literal_int(node: Tree, what: str, low: int, high: int) -> int:
    if not (isinstance(node, Tree) and node.data == "number") or not str(node.children[0]).lstrip("-").isdigit():
        raise CompileError(node, f"{what} must be a whole number")
    value = int(str(node.children[0]))
    if not low <= value <= high:
        raise CompileError(node, f"{what} must be between {low} and {high}, not {value}")
    return value


def literal_duration(node: Tree, what: str, limit: int = MAX_WINDOW) -> int:
    if not (isinstance(node, Tree) and node.data == "duration"):
        raise CompileError(node, f"{what} must be a duration such as 30s, 10m, 2h or 7d")
    seconds = duration_seconds(token_of(node))
    if not 0 < seconds <= limit:
        raise CompileError(node, f"{what} must be more than 0 and at most {limit // 86400}d")
    return seconds


def compile_regex(node: Tree) -> str:
    """The pattern's source, once RE2 has accepted it (see `rules.patterns` for why RE2)."""
    source = literal_string(node, "the pattern")
    try:
        compile_pattern(source)
    except PatternError as exc:
        raise CompileError(node, f"the pattern {source!r} is not a valid regular expression: {exc}") from exc
    return source


def event_kind(node: Tree) -> str:
    kind = literal_string(node, "the event kind")
    if kind not in set(EventKind):
        raise CompileError(node, f"no event kind {kind!r}; kinds: {', '.join(EventKind)}")
    return kind
