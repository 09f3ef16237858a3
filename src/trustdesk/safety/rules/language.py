"""Reads a rule file: parse (Lark, LALR, with line numbers), then compile each list and rule.

A syntax error refuses the whole file (nothing in it can be trusted to mean what it says);
an error inside one rule refuses that rule alone, with its line, and the rest still load."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from trustdesk.core.identity.permissions import Role
from trustdesk.safety.classifiers import default_registry
from trustdesk.safety.rules.conditions import (
    CompileError,
    ConditionCompiler,
    Scope,
    entity_field,
    field_name,
    literal_duration,
    literal_int,
    literal_string,
    split_args,
    string_value,
    token_of,
)
from trustdesk.safety.rules.functions import counter_of
from trustdesk.safety.rules.model import (
    CompiledRule,
    Condition,
    CounterSpec,
    Effect,
    EffectKind,
    KeywordList,
    Problem,
    RuleError,
    RuleFile,
    RuleMode,
)
from trustdesk.safety.rules.policy import ACTIONS, AutomationPolicy, automation_policy
from trustdesk.safety.text import fold_keyword

GRAMMAR = Path(__file__).parent / "grammar.lark"
MAX_VERSION = 1_000_000
MAX_LABEL_SECONDS = 3650 * 86400


@cache
def parser() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _syntax_problem(path: str, exc: UnexpectedInput) -> Problem:
    if isinstance(exc, UnexpectedToken):
        expected = ", ".join(sorted(exc.accepts or exc.expected)[:8])
        found = "the end of the file" if exc.token.type == "$END" else repr(str(exc.token))
        message = f"unexpected {found}; expected one of: {expected}"
    elif isinstance(exc, UnexpectedCharacters):
        message = f"unexpected character {exc.char!r}"
    elif isinstance(exc, UnexpectedEOF):
        message = "the file ends in the middle of a rule"
    else:
        message = str(exc)
    return Problem(path, exc.line or 0, exc.column or 0, message)


def parse_rules(
    text: str, *, path: str = "<rules>", policy: AutomationPolicy | None = None, classifiers: frozenset[str] | None = None
) -> RuleFile:
    """Parse and compile; raise RuleError only when nothing usable remains (syntax error, no
    ruleset line). Refused rules are listed in `RuleFile.problems`."""
    try:
        tree = parser().parse(text)
    except UnexpectedInput as exc:
        raise RuleError([_syntax_problem(path, exc)]) from exc
    reader = _FileReader(
        path,
        text,
        policy or automation_policy(),
        classifiers if classifiers is not None else frozenset(default_registry().names()),
    )
    return reader.read(tree)


def load_rule_file(path: Path, **options: object) -> RuleFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError([Problem(str(path), 0, 0, f"cannot read the file: {exc}")]) from exc
    return parse_rules(text, path=str(path), **options)  # type: ignore[arg-type]


class _FileReader:
    def __init__(self, path: str, text: str, policy: AutomationPolicy, classifiers: frozenset[str]) -> None:
        self.path, self.lines, self.policy, self.classifiers = path, text.splitlines(), policy, classifiers
        self.digest = hashlib.sha256(text.encode()).hexdigest()
        self.problems: list[Problem] = []
        self.lists: dict[str, KeywordList] = {}
        self.rules: list[CompiledRule] = []
        self.ruleset: tuple[str, int] | None = None
        self.counters: set[CounterSpec] = set()
        self.label_fields: set[str] = set()
        self.pdq_distance = -1
        self.patterns: set[tuple[str, str]] = set()

    def read(self, tree: Tree) -> RuleFile:
        for item in tree.children:
            try:
                getattr(self, f"_{item.data}")(item)
            except CompileError as exc:
                self.problems.append(Problem(self.path, exc.line, exc.column, str(exc)))
        if self.ruleset is None:
            raise RuleError([Problem(self.path, 1, 1, 'the file must start with: ruleset "<name>" version <n>')] + self.problems)
        name, version = self.ruleset
        return RuleFile(
            self.path,
            name,
            version,
            self.digest,
            self.lists,
            tuple(self.rules),
            tuple(self.problems),
            frozenset(self.counters),
            frozenset(self.label_fields),
            self.pdq_distance,
            frozenset(self.patterns),
        )

    def _ruleset_decl(self, node: Tree) -> None:
        if self.ruleset is not None or self.lists or self.rules:
            raise CompileError(node, "the ruleset line comes once, first in the file")
        self.ruleset = (string_value(node.children[0]), int(token_of(node, 1)))

    def _list_decl(self, node: Tree) -> None:
        name = str(node.children[0])
        if name in self.lists:
            raise CompileError(node, f"list {name!r} is declared twice")
        entries = [fold_keyword(string_value(s)) for s in node.children[1:] if s is not None]
        if not entries or not all(entries):
            raise CompileError(node, f"list {name!r} needs at least one entry, and no entry may be empty once normalised")
        words = frozenset(e for e in entries if " " not in e)
        phrases = tuple(sorted({e for e in entries if " " in e}))
        self.lists[name] = KeywordList(name, words, phrases, node.meta.line)

    def _rule_decl(self, node: Tree) -> None:
        if self.ruleset is None:
            raise CompileError(node, 'the file must start with: ruleset "<name>" version <n>')
        name = str(node.children[0])
        if any(r.name == name for r in self.rules):
            raise CompileError(node, f"rule {name!r} is defined twice in this file")
        reader = _RuleReader(self, node)
        self.rules.append(reader.compile(name))
        self.counters |= reader.scope.counters
        self.label_fields |= reader.scope.label_fields
        self.pdq_distance = max([self.pdq_distance, *reader.scope.banks.values()])
        self.patterns |= reader.scope.patterns


class _RuleReader:
    def __init__(self, file: _FileReader, node: Tree) -> None:
        self.file, self.node = file, node
        self.scope = Scope(lists=file.lists, classifiers=file.classifiers, namespace=file.ruleset[0] if file.ruleset else "")

    def compile(self, name: str) -> CompiledRule:
        fields: dict[str, Tree] = {}
        for child in self.node.children[1:]:
            if child.data in fields:
                raise CompileError(child, f"rule {name!r}: '{child.data}' is given twice")
            fields[child.data] = child
        ruleset = self.file.ruleset
        if ruleset is None:  # _rule_decl refuses a rule before the ruleset line
            raise CompileError(self.node, 'the file must start with: ruleset "<name>" version <n>')
        for needed in ("version", "when", "then"):
            if needed not in fields:
                raise CompileError(self.node, f"rule {name!r} has no '{needed}'")
        version = int(token_of(fields["version"]))
        if not 1 <= version <= MAX_VERSION:
            raise CompileError(fields["version"], "a rule's version is a whole number from 1 up")
        condition = fields["when"].children[0]
        whole = ConditionCompiler(self.scope).boolean(condition)  # also type-checks the whole condition
        effects = tuple(self._effect(call) for call in fields["then"].children)
        conjuncts = list(_conjuncts(condition))
        when = self._residue(conjuncts)
        self._check_automation(effects, conjuncts)
        return CompiledRule(
            ruleset=ruleset[0],
            name=name,
            version=version,
            mode=RuleMode(str(fields["mode"].children[0])) if "mode" in fields else RuleMode.LIVE,
            description=string_value(fields["description"].children[0]) if "description" in fields else "",
            line=self.node.meta.line,
            source=self._source(),
            digest=self.file.digest,
            when=when,
            effects=effects,
            kinds=_kind_guard(conjuncts),
            required_lists=qualify_guards(self.scope.namespace, _list_guards(conjuncts)),
            required_fields=_field_guards(conjuncts),
            required_patterns=_pattern_guards(conjuncts),
            required_labels=_label_guards(conjuncts),
            required_values=_value_guards(conjuncts),
            required_counts=_count_guards(conjuncts),
            whole=whole,
            classifiers=tuple(sorted(self.scope.used_classifiers)),
        )

    def _residue(self, conjuncts: list[Tree]) -> Condition:
        """The condition less what the engine's guards already decide (the kind test and
        the keyword lists and patterns at its top), so a rule that passes its guards pays only for the rest."""
        guard_ids = {id(n) for n in conjuncts if _is_kind_test(n) or _call_name(n) in ("contains_any", "matches")}
        parts = [ConditionCompiler(self.scope).boolean(n) for n in conjuncts if id(n) not in guard_ids]
        if not parts:
            return lambda c: True
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            first, second = parts
            return lambda c: first(c) and second(c)
        return lambda c: all(p(c) for p in parts)

    def _source(self) -> str:
        return "\n".join(self.file.lines[self.node.meta.line - 1 : self.node.meta.end_line])

    def _effect(self, call: Tree) -> Effect:
        name = str(call.children[0])
        try:
            kind = EffectKind(name)
        except ValueError:
            raise CompileError(call, f"unknown effect {name}(); effects: {', '.join(EffectKind)}") from None
        args, kw = split_args(call)
        return Effect(kind, getattr(self, f"_effect_{kind}")(call, args, kw), call.meta.line)

    @staticmethod
    def _only(
        call: Tree, args: list[Tree], kw: dict[str, Tree], n: int, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> None:
        name = str(call.children[0])
        if len(args) != n:
            raise CompileError(call, f"{name}() takes {n} positional argument{'s' if n != 1 else ''}, not {len(args)}")
        missing = [k for k in required if k not in kw]
        extra = set(kw) - set(required) - set(optional)
        if missing or extra:
            raise CompileError(
                call,
                f"{name}() needs {', '.join(k + '=' for k in required) or 'no options'}"
                + (f" and may take {', '.join(k + '=' for k in optional)}" if optional else ""),
            )

    def _effect_verdict(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 1, ())
        return {"verdict": literal_string(args[0], "the verdict")}

    def _effect_add_label(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 2, (), ("expires",))
        expires = literal_duration(kw["expires"], "expires", MAX_LABEL_SECONDS) if "expires" in kw else None
        return {"entity": entity_field(args[0]), "label": literal_string(args[1], "the label"), "expires_seconds": expires}

    def _effect_remove_label(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 2, ())
        return {"entity": entity_field(args[0]), "label": literal_string(args[1], "the label")}

    def _effect_open_case(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 0, ("queue", "priority"), ("subject",))
        subject = entity_field(kw["subject"]) if "subject" in kw else None
        return {
            "queue": literal_string(kw["queue"], "queue"),
            "priority": literal_int(kw["priority"], "priority", 0, 100),
            "subject": subject,
        }

    def _effect_take_action(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 0, ("action", "policy"))
        action = literal_string(kw["action"], "action")
        if action not in ACTIONS:
            raise CompileError(kw["action"], f"unknown action {action!r}; actions: {', '.join(sorted(ACTIONS))}")
        return {"action": action, "policy": literal_string(kw["policy"], "policy")}

    def _effect_alert(self, call: Tree, args: list[Tree], kw: dict[str, Tree]) -> dict[str, object]:
        self._only(call, args, kw, 0, ("role", "message"))
        role = literal_string(kw["role"], "role")
        if role not in set(Role):
            raise CompileError(kw["role"], f"no staff role {role!r}; roles: {', '.join(Role)}")
        return {"role": role, "message": literal_string(kw["message"], "message")}

    def _check_automation(self, effects: tuple[Effect, ...], conjuncts: list[Tree]) -> None:
        """An automatic action needs the policy's allowance and, in the rule's condition
        itself (not under an 'or'), a match against one of the banks that allowance names."""
        for effect in effects:
            if effect.kind is not EffectKind.TAKE_ACTION:
                continue
            action, policy = effect.args["action"], effect.args["policy"]
            allowance = self.file.policy.find(action, policy)
            if allowance is None:
                raise CompileError(
                    _at(effect),
                    f"the automation policy (version {self.file.policy.version}) does not allow the automatic action {action!r} under policy {policy!r}; send it to review with open_case() instead",
                )
            if not any(_is_bank_match(c, allowance.banks, allowance.max_distance) for c in conjuncts):
                raise CompileError(
                    _at(effect),
                    f"automatic {action!r} under {policy!r} needs 'hash_match(<bank>)' or 'hash_match_exact(<bank>)' joined by 'and' in the condition, with a bank from {sorted(allowance.banks)} and max_distance at most {allowance.max_distance}",
                )


def _at(effect: Effect) -> Token:
    return Token("EFFECT", "", line=effect.line, column=1)


def _conjuncts(node: Tree | Token):  # type: ignore[no-untyped-def]
    if isinstance(node, Tree) and node.data == "and_":
        for child in node.children:
            yield from _conjuncts(child)
    else:
        yield node


def _call_name(node: Tree | Token) -> str | None:
    return str(node.children[0]) if isinstance(node, Tree) and node.data == "call" else None


def _is_bank_match(node: Tree | Token, banks: frozenset[str], max_distance: int) -> bool:
    name = _call_name(node)
    if name not in ("hash_match", "hash_match_exact"):
        return False
    args, kw = split_args(node)  # type: ignore[arg-type]
    if not args or literal_string(args[0], "the bank") not in banks:
        return False
    return "max_distance" not in kw or literal_int(kw["max_distance"], "max_distance", 0, 64) <= max_distance


def _is_kind_test(node: Tree | Token) -> bool:
    return _kind_guard([node]) is not None  # type: ignore[list-item]


def _field_guards(conjuncts: list[Tree]) -> tuple[str, ...]:
    """Fields without which a top-level conjunct is false whatever else holds: the text a
    pattern or keyword list is matched against, the media a hash match looks at."""
    fields: list[str] = []
    for node in conjuncts:
        name = _call_name(node)
        if name in ("matches", "contains_any"):
            args, _ = split_args(node)  # type: ignore[arg-type]
            fields.append(str(args[0].children[1]))
        elif name in ("hash_match", "hash_match_exact"):
            fields.append("media")
    return tuple(dict.fromkeys(fields))


def _kind_guard(conjuncts: list[Tree]) -> frozenset[str] | None:
    """`event.kind == "message"` (or `event.kind in [...]`) at the top of a rule lets the
    engine skip it for every other kind without calling it."""
    for node in conjuncts:
        if not isinstance(node, Tree) or node.data not in ("compare", "in_"):
            continue
        left, right = node.children[0], node.children[-1]
        if not (isinstance(left, Tree) and left.data == "field" and [str(t) for t in left.children] == ["event", "kind"]):
            continue
        if node.data == "compare" and str(node.children[1]) == "==" and right.data == "string":
            return frozenset({string_value(right)})
        if node.data == "in_" and right.data == "array":
            return frozenset(string_value(c) for c in right.children if c is not None and c.data == "string")
    return None


def _list_guards(conjuncts: list[Tree]) -> tuple[tuple[str, str], ...]:
    """`contains_any(event.text, L)` at the top of a rule: skip it unless L was hit at all."""
    guards = []
    for node in conjuncts:
        if _call_name(node) == "contains_any":
            args, _ = split_args(node)  # type: ignore[arg-type]
            guards.append((str(args[0].children[1]), str(args[1].children[0])))
    return tuple(guards)


def _pattern_guards(conjuncts: list[Tree]) -> tuple[tuple[str, str], ...]:
    """`matches(event.text, 'p')` at the top of a rule: skip it unless the field's pattern
    set found p (one RE2 pass per field finds every pattern at once)."""
    guards = []
    for node in conjuncts:
        if _call_name(node) == "matches":
            args, _ = split_args(node)  # type: ignore[arg-type]
            guards.append((str(args[0].children[1]), string_value(args[1])))
    return tuple(guards)


def _label_guards(conjuncts: list[Tree]) -> tuple[tuple[str, str], ...]:
    """`has_label(event.actor, "x")` at the top of a rule: skip it unless the entity holds x
    (expired or not: the condition itself still checks the expiry)."""
    guards = []
    for node in conjuncts:
        if _call_name(node) == "has_label":
            args, _ = split_args(node)  # type: ignore[arg-type]
            guards.append((entity_field(args[0]), literal_string(args[1], "the label")))
    return tuple(guards)


def _value_guards(conjuncts: list[Tree]) -> tuple[tuple[str, str], ...]:
    """`event.chat_kind == "channel"` (any field but the kind, which `_kind_guard` files) at
    the top of a rule: skip it for events whose field holds another value. The comparison
    stays in the condition, so the guard only ever skips rules that could not match."""
    guards = []
    for node in conjuncts:
        if not (isinstance(node, Tree) and node.data == "compare" and str(node.children[1]) == "=="):
            continue
        left, right = node.children[0], node.children[2]
        if isinstance(left, Tree) and left.data == "field" and isinstance(right, Tree) and right.data == "string":
            name = field_name(left)
            if name not in ("kind", "media_count"):
                guards.append((name, string_value(right)))
    return tuple(guards)


def _count_guards(conjuncts: list[Tree]) -> tuple[tuple[CounterSpec, int, int], ...]:
    """`count("message", event.actor, 10m) > 40` (or `>=`) at the top of a rule: skip it
    while the counter, over the widest window any rule asks of it, is below 41. A window's
    count never exceeds a wider one's (both end at the event), so nothing that could match
    is skipped; the comparison stays in the condition."""
    guards = []
    for node in conjuncts:
        if not (isinstance(node, Tree) and node.data == "compare" and str(node.children[1]) in (">", ">=")):
            continue
        left, right = node.children[0], node.children[2]
        if _call_name(left) != "count" or not (isinstance(right, Tree) and right.data == "number"):
            continue
        text = str(right.children[0])
        if not text.lstrip("-").isdigit():
            continue
        args, _ = split_args(left)  # type: ignore[arg-type]
        spec, window = counter_of(args)
        guards.append((spec, window, int(text) + (1 if str(node.children[1]) == ">" else 0)))
    return tuple(guards)


def qualify_guards(ruleset: str, guards: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((f, f"{ruleset}:{name}") for f, name in guards)
