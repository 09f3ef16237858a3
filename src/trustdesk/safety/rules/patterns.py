"""Regular expressions in rules: RE2, one combined matcher per text field.

Why RE2 (Google's engine, `google-re2`) rather than Python's `re`:
- Safety. `re` backtracks, so a pattern such as `(a+)+$` takes exponential time on a long
  run of `a`s: one careless rule, or one crafted message, would stall every worker. RE2
  runs in time linear in the text for every pattern it accepts; the patterns that cannot
  be run that way (backreferences, lookaround) are refused when the file is loaded, with
  the rule's line, as any other error. On top, text longer than `MAX_TEXT` characters is
  matched on its first `MAX_TEXT` characters (events already cap text at 20,000).
- Speed. `RE2::Set` matches every pattern of a field in one pass over the text and says
  which matched; a message meets one scan, not one per pattern rule.

Dialect notes for analysts: `\\d`, `\\w`, `\\s` and `\\b` are ASCII (as in RE2); write
`\\pN`, `\\pL` for digits and letters of any script. Text is normalised first (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import re2

MAX_TEXT = 20_000
_NONE: frozenset[str] = frozenset()


class PatternError(ValueError):
    """A pattern RE2 will not run: a syntax error, or a feature that needs backtracking."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # errors come back as exceptions with the rule's line instead
    return options


@cache
def compile_pattern(source: str) -> Any:
    """The compiled pattern, or PatternError saying why it cannot be used."""
    if "\x00" in source:
        raise PatternError("a pattern may not contain a NUL character")
    try:
        return re2.compile(source, _options())
    except re2.error as exc:
        hint = (
            " (backreferences and lookaround are not supported: they need backtracking, which can stall the pipeline)"
            if _needs_backtracking(source)
            else ""
        )
        raise PatternError(f"{exc}{hint}") from None


def _needs_backtracking(source: str) -> bool:
    return any(token in source for token in ("(?=", "(?!", "(?<=", "(?<!", "(?P=")) or any(
        f"\\{d}" in source for d in "123456789"
    )


class PatternSet:
    """Every pattern used on one text field, matched together."""

    __slots__ = ("_set", "sources")

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources: tuple[str, ...] = tuple(dict.fromkeys(sources))
        self._set = re2.Set.SearchSet(_options())
        for source in self.sources:
            compile_pattern(source)  # refuses what the set would refuse, with the same message
            self._set.Add(source)
        self._set.Compile()

    def hits(self, text: str) -> frozenset[str]:
        """The sources of the patterns found anywhere in `text`."""
        found = self._set.Match(text[:MAX_TEXT])
        if not found:
            return _NONE
        return frozenset(self.sources[i] for i in found)


def pattern_sets(patterns: Iterable[tuple[str, str]]) -> dict[str, PatternSet]:
    """(field, source) pairs to one PatternSet per field."""
    by_field: dict[str, list[str]] = {}
    for field, source in patterns:
        by_field.setdefault(field, []).append(source)
    return {field: PatternSet(sorted(sources)) for field, sources in by_field.items()}
