"""Patterns in rules run on RE2: refused at load when they need backtracking, linear on
hostile text, and the combined per-field matcher finds exactly what each pattern alone does."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.safety.rules.language import parse_rules
from trustdesk.safety.rules.patterns import PatternSet, compile_pattern


def _file(when: str) -> str:
    return f'ruleset "p" version 1\nrule r {{\n  version 1\n  when {when}\n  then verdict("x")\n}}\n'


def test_a_pattern_that_needs_backtracking_is_refused_with_its_line() -> None:
    loaded = parse_rules(_file("matches(event.text, '(\\w+)\\s+\\1')"))
    assert not loaded.rules
    (problem,) = loaded.problems
    assert problem.line == 4 and "backreferences and lookaround are not supported" in problem.message
    lookahead = parse_rules(_file("matches(event.text, 'pay(?= now)')"))
    assert not lookahead.rules and "not a valid regular expression" in lookahead.problems[0].message


def test_a_catastrophic_pattern_for_backtracking_engines_answers_on_hostile_text() -> None:
    hostile = "a" * 10_000 + "!"
    assert PatternSet(["(a+)+$", "(a|aa)*b"]).hits(hostile) == frozenset()
    assert PatternSet(["(a+)+!$"]).hits(hostile) == frozenset({"(a+)+!$"})


def test_the_guarded_rule_fires_only_when_its_pattern_is_found() -> None:
    loaded = parse_rules(_file("event.kind == \"message\" and matches(event.text, 'pay\\s+\\d{3}\\s*eur')"))
    (rule,) = loaded.rules
    assert rule.required_patterns == (("text", r"pay\s+\d{3}\s*eur"),)
    assert loaded.patterns == frozenset({("text", r"pay\s+\d{3}\s*eur")})


SIMPLE = st.lists(st.text(alphabet="ab.*+?|", min_size=1, max_size=6), min_size=1, max_size=6)


@given(SIMPLE, st.text(alphabet="abc", max_size=30))
def test_the_set_finds_what_each_pattern_finds_alone(sources: list[str], text: str) -> None:
    usable = []
    for source in sources:
        try:
            compile_pattern(source)
            re.compile(source)
        except Exception:  # noqa: BLE001 - hypothesis writes invalid patterns too; both engines refuse them
            continue
        usable.append(source)
    if not usable:
        return
    expected = frozenset(s for s in usable if compile_pattern(s).search(text) is not None)
    assert PatternSet(usable).hits(text) == expected
    assert expected == frozenset(s for s in usable if re.search(s, text) is not None)  # same dialect on these
