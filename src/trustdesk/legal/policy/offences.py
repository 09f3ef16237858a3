"""Recognising an offence in the words an authority used.

An offence in the jurisdictions file carries patterns such as `insult* official*`: every
term must appear in the stated offence as a word (or, with `*`, as the start of a word), in
any order, whatever the case, accents or punctuation. Deliberately simple, so that a legal
officer can read why a request matched, and a draft list can be tried in a dry-run."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# Letters that fold further than NFKD takes them: dotless ı, the Arabic forms of yeh and kaf
# (read as the Persian ones), teh marbuta, final sigma.
FOLD = str.maketrans({"ı": "i", "ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ς": "σ", "ـ": None})
# Scripts written without spaces between words: a term in them matches anywhere in the text.
UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF))
ARABIC_ARTICLE = "ال"


class OffenceKind(StrEnum):
    PROTECTED_EXPRESSION = "protected_expression"  # refused whatever the tier
    NOT_A_CRIME_AT_HOME = "not_a_crime_at_home"  # fails double criminality
    SERIOUS_CRIME = "serious_crime"  # listed serious crime (FD 2002/584/JHA Art. 2(2))
    CHILD_SEXUAL_EXPLOITATION = "child_sexual_exploitation"
    TERRORISM = "terrorism"
    ORDINARY_CRIME = "ordinary_crime"  # an offence at home too, not listed as serious


@dataclass(frozen=True)
class Offence:
    code: str
    kind: OffenceKind
    label: str
    patterns: tuple[str, ...]
    source: str

    def matched_pattern(self, words: frozenset[str]) -> str | None:
        return next((p for p in self.patterns if pattern_matches(p, words)), None)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def _fold(text: str) -> list[str]:
    """The words of a text, case and accents folded, in any script."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).translate(FOLD)
    out, word = [], []
    for ch in plain:
        if _word_char(ch):
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def unspaced(term: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in term for lo, hi in UNSPACED)


class Words(frozenset[str]):
    """The folded words of a text, and the text's letters run together (for terms in a script
    written without spaces). An Arabic word with the article also reads without it."""

    run: str = ""

    @classmethod
    def of(cls, text: str) -> Words:
        folded = _fold(text)
        extra = [w[len(ARABIC_ARTICLE) :] for w in folded if w.startswith(ARABIC_ARTICLE) and len(w) > len(ARABIC_ARTICLE) + 2]
        found = cls([*folded, *extra])
        found.run = "".join(folded)
        return found


def words(text: str) -> Words:
    """Lower-case words: 'Lèse-Majesté' and 'lese majeste' read the same; so do 'Türkiye' and
    'turkiye', 'Уголовный' and 'уголовныи'."""
    return Words.of(text)


def _term_matches(term: str, found: frozenset[str]) -> bool:
    stem = term[:-1] if term.endswith("*") else term
    if unspaced(stem):
        return stem in getattr(found, "run", "") or any(stem in w for w in found)
    if term.endswith("*"):
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
