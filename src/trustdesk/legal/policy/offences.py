"""Recognising an offence in the words an authority used.

An offence in the jurisdictions file carries patterns such as `insult* official*`: every
term must appear in the stated offence as a word (or, with `*`, as the start of a word), in
any order, whatever the case, accents or punctuation. Deliberately simple, so that a legal
officer can read why a request matched, and a draft list can be tried in a dry-run."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

WORD = re.compile(r"[a-z0-9]+")


class OffenceKind(StrEnum):
    PROTECTED_EXPRESSION = "protected_expression"  # refused whatever the tier
    NOT_A_CRIME_AT_HOME = "not_a_crime_at_home"  # fails double criminality


@dataclass(frozen=True)
class Offence:
    code: str
    kind: OffenceKind
    label: str
    patterns: tuple[str, ...]
    source: str

    def matched_pattern(self, words: frozenset[str]) -> str | None:
        return next((p for p in self.patterns if pattern_matches(p, words)), None)


def _fold(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))


def words(text: str) -> frozenset[str]:
    """Lower-case ASCII words: 'Lèse-Majesté' and 'lese majeste' read the same."""
    return frozenset(_fold(text))


def _term_matches(term: str, found: frozenset[str]) -> bool:
    if term.endswith("*"):
        stem = term[:-1]
        return any(w.startswith(stem) for w in found)
    return term in found


def pattern_matches(pattern: str, found: frozenset[str]) -> bool:
    terms = [t for part in pattern.split() for t in _terms(part)]
    return bool(terms) and all(_term_matches(t, found) for t in terms)


def _terms(part: str) -> list[str]:
    """A pattern word folded like the text, keeping a trailing '*' on its last piece."""
    pieces = _fold(part.rstrip("*"))
    if pieces and part.endswith("*"):
        pieces[-1] += "*"
    return pieces


def match(offences: tuple[Offence, ...], text: str) -> list[Offence]:
    """The listed offences that the text names, in the file's order."""
    found = words(text)
    return [o for o in offences if o.matched_pattern(found) is not None]
