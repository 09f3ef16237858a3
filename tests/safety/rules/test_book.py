"""Hot reload: a changed file takes effect; a broken edit keeps the last good version."""

from __future__ import annotations

from pathlib import Path

from trustdesk.safety.rules.book import SHIPPED, RuleBook

GOOD = 'ruleset "ops" version {v}\nrule r {{\n  version {v}\n  when event.kind == "message"\n  then verdict("x")\n}}\n'


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # a fresh mtime even on coarse file systems: size differs between versions too


def test_reload_picks_up_a_new_version(tmp_path: Path) -> None:
    (tmp_path / "ops.rules").write_text(GOOD.format(v=1))
    book = RuleBook(tmp_path, check_every=0)
    assert book.current().rules[0].ref == "ops/r@v1"
    _write(tmp_path / "ops.rules", GOOD.format(v=22))
    assert book.current().rules[0].ref == "ops/r@v22"
    assert book.status().reloads == 2


def test_a_broken_edit_keeps_the_last_good_rule(tmp_path: Path) -> None:
    path = tmp_path / "ops.rules"
    path.write_text(GOOD.format(v=1))
    book = RuleBook(tmp_path, check_every=0)
    _write(path, GOOD.format(v=1).replace('event.kind == "message"', "event.bogus == 1"))
    assert [r.ref for r in book.current().rules] == ["ops/r@v1"]
    (problem,) = book.status().problems
    assert problem.line == 4 and "bogus" in problem.message
    _write(path, 'ruleset "ops" version 1\nrule r {\n')
    assert [r.ref for r in book.current().rules] == ["ops/r@v1"]
    assert book.status().problems[0].line >= 2


def test_without_a_rules_directory_the_shipped_examples_load(tmp_path: Path) -> None:
    book = RuleBook.for_directory(tmp_path / "missing")
    assert book.directory == SHIPPED
    assert not book.status().problems and len(book.current().rules) >= 3
