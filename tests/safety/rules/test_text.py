"""Normalisation: the obfuscations an offender uses all fold to the word the analyst wrote."""

from __future__ import annotations

import json
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.safety import text as text_module
from trustdesk.safety.text import DATA, fold_keyword, normalise


@pytest.mark.parametrize(
    "written",
    [
        "cocaine",
        "COCAINE",
        "C0CA1NE",
        "cocaïne",
        "c o c a i n e",
        "c.o.c.a.i.n.e",
        "co\u200bcaine",
        "со\u00adcaine",
        "ｃｏｃａｉｎｅ",
        "cooocaaaine",
    ],
)
def test_obfuscations_fold_to_the_keyword(written: str) -> None:
    assert "cocaine" in normalise(f"get {written} here").words


def test_patterns_see_digits_as_digits() -> None:
    text = normalise("Call +49 151 2345 6789 now")
    assert "151 2345" in text.plain and "now" in text.words


def test_punctuation_is_not_mistaken_for_leetspeak() -> None:
    assert {"now", "here"} <= normalise("now!!! here?").words


def test_every_homoglyph_maps_to_plain_latin() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["source"] and data["version"]
    for char, target in data["homoglyphs"].items():
        assert target.isascii() and target.isalpha(), char
        assert normalise(char).plain == target


words = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=12).filter(lambda w: len(set(w)) > 1)


@given(words, st.sampled_from(["\u200b", "\u200d", "\u2060", "\u00ad", "\ufeff"]), st.integers(min_value=1, max_value=10))
def test_invisible_characters_change_nothing(word: str, invisible: str, at: int) -> None:
    at = min(at, len(word) - 1)
    assert normalise(word[:at] + invisible + word[at:]).folded == normalise(word).folded


@given(words)
def test_case_changes_nothing(word: str) -> None:
    assert normalise(word.upper()).folded == normalise(word).folded == normalise(word.title()).folded


@given(st.text(max_size=200))
def test_any_text_normalises_without_error(text: str) -> None:
    result = normalise(text)
    assert isinstance(result.plain, str) and isinstance(result.words, frozenset)


@given(words)
def test_keyword_and_message_meet_in_one_form(word: str) -> None:
    assert fold_keyword(word.upper()) in normalise(f"x {word} y").words


@given(st.text(alphabet=st.sampled_from("ab_1 \t.é²ßİ-"), max_size=40) | st.text(max_size=60))
def test_the_words_are_the_word_runs_of_the_folded_text(text: str) -> None:
    """`words` takes a faster way when the folded text is word characters and spaces alone;
    either way they are its runs of `\\w`."""
    result = normalise(text)
    assert result.words == frozenset(re.findall(r"\w+", result.folded))


@given(st.text(alphabet=st.sampled_from("aab1_ .é"), max_size=40))
def test_runs_of_a_letter_squeeze_to_one(text: str) -> None:
    assert text_module._REPEATS.sub(text_module._first, text) == re.sub(r"(\w)\1{2,}", r"\1", text)  # noqa: SLF001
