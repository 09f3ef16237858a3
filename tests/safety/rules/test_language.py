"""The rule language: what loads, and how every kind of mistake is refused with its line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.safety.rules.language import parse_rules
from trustdesk.safety.rules.model import EffectKind, RuleError, RuleMode

HEAD = 'ruleset "t" version 4\nlist drugs = ["mdma", "pills for sale"]\n'


def rule(when: str, then: str = 'verdict("x")', extra: str = "") -> str:
    return HEAD + f"rule r {{\n  version 2\n{extra}  when {when}\n  then {then}\n}}\n"


def problems(source: str) -> list[str]:
    try:
        return [str(p) for p in parse_rules(source, path="f.rules").problems]
    except RuleError as exc:
        return [str(p) for p in exc.problems]


def test_a_rule_compiles_with_its_guards_and_effects() -> None:
    loaded = parse_rules(
        rule(
            'event.kind == "message" and contains_any(event.text, drugs) and count("message", event.actor, 10m) > 3',
            'open_case(queue="illegal_goods", priority=40), add_label(event.actor, "drugs", expires=7d)',
            "  mode shadow\n",
        )
    )
    (r,) = loaded.rules
    assert (r.ref, r.mode, r.kinds, r.required_lists) == (
        "t/r@v2",
        RuleMode.SHADOW,
        frozenset({"message"}),
        (("text", "t:drugs"),),
    )
    assert [e.kind for e in r.effects] == [EffectKind.OPEN_CASE, EffectKind.ADD_LABEL]
    assert r.effects[1].args["expires_seconds"] == 7 * 86400
    assert loaded.version == 4 and not loaded.problems


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        (rule("event.kind =="), 6, "unexpected"),
        (rule('event.texts == "x"'), 5, "no field 'texts'"),
        (rule("shout(event.text)"), 5, "unknown function"),
        (rule("matches(event.text, '[a-')"), 5, "not a valid regular expression"),
        (rule('count("message", event.actor, 10m) > "many"'), 5, "cannot compare a number with a string"),
        (rule('classify("nope", event.text) > 0.5'), 5, "no classifier named 'nope'"),
        (rule("contains_any(event.text, nolist)"), 5, "no list named 'nolist'"),
        (rule('event.kind == "message"', 'open_case(queue="x", priority=500)'), 6, "between 0 and 100"),
        (rule('event.kind == "message"', 'alert(role="king", message="hi")'), 6, "no staff role 'king'"),
        (rule('event.kind == "message"', 'take_action(action="remove_message", policy="scams")'), 6, "does not allow"),
        (
            rule(
                'event.kind == "message" or hash_match("csam_verified")',
                'take_action(action="remove_message", policy="child_sexual_exploitation")',
            ),
            6,
            "joined by 'and'",
        ),
        (
            rule(
                'hash_match("csam_verified", max_distance=60)',
                'take_action(action="remove_message", policy="child_sexual_exploitation")',
            ),
            6,
            "max_distance at most 31",
        ),
        (
            rule(
                'hash_match("some_unverified_bank")', 'take_action(action="remove_message", policy="child_sexual_exploitation")'
            ),
            6,
            "csam_verified",
        ),
        ('rule r {\n version 1\n when true\n then verdict("x")\n}\n', 1, "must start with"),
    ],
)
def test_mistakes_are_refused_with_their_line(source: str, line: int, words: str) -> None:
    found = problems(source)
    assert found, "expected a problem"
    assert found[0].startswith(f"f.rules:{line}:") and words in found[0], found


def test_an_allowed_automatic_action_loads() -> None:
    loaded = parse_rules(
        rule(
            'event.kind == "media" and hash_match("csam_verified")',
            'take_action(action="remove_message", policy="child_sexual_exploitation")',
        )
    )
    assert [e.kind for e in loaded.rules[0].effects] == [EffectKind.TAKE_ACTION]


def test_one_bad_rule_does_not_refuse_the_others() -> None:
    source = rule('event.kind == "message"') + 'rule broken {\n version 1\n when event.nothing == 1\n then verdict("y")\n}\n'
    loaded = parse_rules(source, path="f.rules")
    assert [r.name for r in loaded.rules] == ["r"]
    assert len(loaded.problems) == 1 and loaded.problems[0].line == 10


@given(st.text(max_size=300))
def test_any_text_either_loads_or_is_refused_cleanly(source: str) -> None:
    try:
        parse_rules(source)
    except RuleError as exc:
        assert exc.problems and all(p.line >= 0 for p in exc.problems)


@given(
    st.lists(
        st.sampled_from(
            [
                'event.kind == "message"',
                "true",
                "false",
                "contains_any(event.text, drugs)",
                "length(event.text) > 3",
                'has_label(event.actor, "x")',
                'not matches(event.text, "a+")',
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.sampled_from(["and", "or"]), min_size=5, max_size=5),
)
def test_generated_conditions_compile(parts: list[str], joins: list[str]) -> None:
    condition = parts[0] + "".join(f" {joins[i]} {p}" for i, p in enumerate(parts[1:]))
    assert parse_rules(rule(condition)).rules
