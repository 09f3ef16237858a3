"""The citation parser: every way an order cites an article (issue #16 item 2), and properties
that hold for any text: it never fails, never invents a number, and finds every article a
generated citation names, whatever the marker, spacing, code or words around it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.legal.policy.citations import normalise_article, parse


@pytest.mark.parametrize(
    ("text", "article", "paragraph", "near"),
    [
        ("Art. 299 TCK", "299", None, "TCK"),
        ("TCK m. 299", "299", None, "TCK"),
        ("TCK 299. madde", "299", None, "TCK"),
        ("Türk Ceza Kanunu'nun 299 uncu maddesi", "299", None, "Kanunu"),
        ("§ 130 Abs. 1 StGB", "130", "1", "StGB"),
        ("§130 StGB", "130", None, "StGB"),
        ("Article 280.3 of the Criminal Code", "280.3", None, "Criminal Code"),
        ("ч. 1 ст. 207.3 УК РФ", "207.3", None, "УК РФ"),
        ("статья 280.3 Уголовного кодекса", "280.3", None, "Уголовного"),
        ("18 U.S.C. § 2252A(a)(2)", "2252a", "a", ""),
        ("Turkish Penal Code Art. 125(3): insulting", "125", "3", "Penal Code"),
        ("Penal Code Art. 217/A", "217/a", None, "Penal Code"),
        ("art. 222-37 code pénal", "222-37", None, "code pénal"),
        ("art. 421-2-5 du code pénal", "421-2-5", None, "code pénal"),
        ("Criminal Code s. 112 (lèse-majesté)", "112", None, "Criminal Code"),
        ("刑法第293条", "293", None, "刑法"),
        ("ماده ۵۰۰ قانون مجازات اسلامی", "500", None, "قانون"),
        ("PPC 295-C", "295-c", None, "PPC"),
        ("Artykuł 135 § 2 Kodeksu karnego", "135", None, "Kodeksu"),
        ("άρθρο 187 ΠΚ", "187", None, ""),
    ],
)
def test_citations_as_authorities_write_them(text: str, article: str, paragraph: str | None, near: str) -> None:
    found = parse(text)
    assert found, text
    first = found[0]
    assert (first.article, first.paragraph) == (article, paragraph)
    assert near in first.before + first.after + text


def test_lists_of_articles_each_count() -> None:
    assert [c.article for c in parse("Articles 280.3 and 207.3 of the Criminal Code")] == ["280.3", "207.3"]
    assert [c.article for c in parse("§§ 130, 131 StGB")] == ["130", "131"]
    assert [c.article for c in parse("ст. 280.3 УК РФ и ст. 207.3 УК РФ")] == ["280.3", "207.3"]


def test_the_united_states_code_names_its_title() -> None:
    (cite,) = parse("Violation of 18 USC 2339B and nothing else")
    assert (cite.code, cite.article) == ("usc18", "2339b")
    (drugs,) = parse("21 U.S.C. sec. 841(a)(1)")
    assert (drugs.code, drugs.article) == ("usc21", "841")


def test_words_without_numbers_cite_nothing() -> None:
    assert parse("Insulting the President") == []
    assert parse("") == []


MARKERS = st.sampled_from(
    ["Art. ", "art.", "Article ", "Artikel ", "§ ", "§", "Section ", "s. ", "ст. ", "статья ", "m. ", "čl. ", "άρθρο "]
)
CODES = st.sampled_from(["", " TCK", " StGB", " of the Criminal Code", " УК РФ", " code pénal", " KK"])
NUMBERS = st.builds(
    lambda n, sub, letter: f"{n}{sub}{letter}",
    st.integers(1, 9999),
    st.sampled_from(["", ".1", ".3", "-37", "-2-5"]),
    st.sampled_from(["", "a", "/A"]),
)
FILLER = st.text(alphabet=st.sampled_from("abcxyz éüışжыλ,;()-"), max_size=30)


@given(FILLER, MARKERS, NUMBERS, st.sampled_from(["", "(3)", " Abs. 2", " para. 1"]), CODES, FILLER)
def test_a_cited_article_is_always_found(before: str, marker: str, number: str, paragraph: str, code: str, after: str) -> None:
    text = f"{before} {marker}{number}{paragraph}{code} {after}"
    assert normalise_article(number) in [c.article for c in parse(text)]


@given(st.text(max_size=200))
def test_any_text_parses_without_error(text: str) -> None:
    for cite in parse(text):
        assert cite.article and any(ch.isdigit() for ch in cite.article)


@given(st.text(alphabet=st.characters(exclude_categories=("Nd", "Nl", "No", "Cs")), max_size=120))
def test_text_without_digits_cites_nothing(text: str) -> None:
    assert parse(text) == []
