"""Text normalisation against obfuscation, so that a keyword list written once catches
'C0CAINE', 'cocaïne', 'c o c a i n e', 'со­caine' (Cyrillic letters and a soft hyphen) alike.

Two forms come out of one message:
- `plain`: Unicode-compatibility folded (NFKC), case-folded, accents and zero-width or
  other invisible format characters removed, homoglyphs mapped to Latin. Patterns
  (regular expressions) run on this form, so digits stay digits.
- `folded`: `plain` plus leetspeak undone (0->o, 4->a, $->s ...), runs of three or more
  of the same letter squeezed to one, and runs of single letters spaced or dotted apart
  joined again. Keyword lists are folded the same way and matched against its words.

The homoglyph and leetspeak tables are data (`data/confusables.json`, a subset of Unicode
TR39 confusables with its source), not code."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "rules" / "data" / "confusables.json"
_WORD = re.compile(r"\w+")
_REPEATS = re.compile(r"(\w)\1\1+")  # three or more of one letter
_SPACED = re.compile(r"\b(?:\w[\s.\-_*]+){2,}\w\b")
_SEPARATORS = re.compile(r"[\s.\-_*]+")


@dataclass(frozen=True)
class Normalised:
    plain: str
    folded: str

    @property
    def words(self) -> frozenset[str]:
        folded = self.folded
        if folded.replace(" ", "").isalnum():  # `\w` is exactly isalnum() or "_": the words are the parts between spaces
            return frozenset(folded.split())
        return frozenset(_WORD.findall(folded))


@cache
def _tables() -> tuple[dict[int, str | None], dict[int, str | None]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    plain: dict[int, str | None] = {ord(ch): target for ch, target in data["homoglyphs"].items()}
    for ch in data["invisible"]:
        plain[ord(ch)] = None
    leet: dict[int, str | None] = {ord(ch): target for ch, target in data["leet"].items()}
    return plain, leet


def _strip_marks(text: str) -> str:
    """Accents go: decompose, drop combining marks, recompose what is left."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", kept)


def plain_form(text: str) -> str:
    plain_table, _ = _tables()
    if text.isascii():
        return text.lower()
    return _strip_marks(unicodedata.normalize("NFKC", text).translate(plain_table)).casefold().translate(plain_table)


def _join_spaced(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group())


def _first(match: re.Match[str]) -> str:
    return match.group(1)


def fold_form(plain: str) -> str:
    _, leet_table = _tables()
    folded = plain.translate(leet_table)
    folded = _REPEATS.sub(_first, folded)  # a function, not r"\1": `re` parses a template in Python on every call
    return _SPACED.sub(_join_spaced, folded)


def normalise(text: str) -> Normalised:
    plain = plain_form(text)
    return Normalised(plain=plain, folded=fold_form(plain))


def fold_keyword(keyword: str) -> str:
    """A list entry, folded exactly as message text is, so both sides meet in one form."""
    return " ".join(_WORD.findall(normalise(keyword).folded))
