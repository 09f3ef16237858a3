"""The country profiles as data: what the file promises (every EU state, the named countries,
the official, licensed rule-of-law estimates), the offence matcher, and the estimates update."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.policy import jurisdictions, statutes
from trustdesk.legal.policy.offences import OffenceKind, pattern_matches, words

EU = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
PROFILES = jurisdictions.load()
RAW = tomllib.loads(jurisdictions.PROFILES.read_text())


def test_every_eu_state_and_the_named_countries_are_profiled() -> None:
    eu = {c for c, p in PROFILES.countries.items() if p.eu}
    assert eu == EU
    assert {"IS", "LI", "NO"} == {c for c, p in PROFILES.countries.items() if p.eea and not p.eu}
    assert {"US", "GB", "BR", "IN", "TR", "RU", "CN", "IR", "SA", "AE"} <= set(PROFILES.countries)
    assert 40 <= len(PROFILES.countries) <= 80


def test_the_rule_of_law_index_names_its_source_licence_and_status() -> None:
    index = PROFILES.index
    assert "Worldwide Governance Indicators" in index["index"] and index["licence"] == "CC BY 4.0"
    assert index["source"].startswith("https://") and "2024 Update" in index["status"] and "data year 2023" in index["status"]
    assert PROFILES.estimates_year == 2023 and "wgi2023" in PROFILES.version


def test_every_country_has_an_estimate_and_a_tier_from_it() -> None:
    for profile in PROFILES.countries.values():
        assert profile.estimate is not None, profile.code
        assert profile.tier == jurisdictions.tier_for(PROFILES.tiers, profile.estimate).tier


def test_the_tiers_order_the_countries_as_the_index_does() -> None:
    assert PROFILES.get("FI").tier == 1 and PROFILES.get("RU").tier == PROFILES.lowest_tier
    assert PROFILES.get("TR").tier > PROFILES.get("FR").tier


def test_an_unprofiled_state_gets_the_most_review_never_the_least() -> None:
    unknown = PROFILES.get("ZZ")
    assert unknown.tier == PROFILES.lowest_tier and unknown.estimate is None


def test_instruments_and_agreements() -> None:
    codes = set(load_catalogue().instruments)
    for profile in PROFILES.countries.values():
        assert profile.instruments <= codes
    assert "eu_epoc" in PROFILES.get("FR").instruments and "eu_epoc" not in PROFILES.get("DK").instruments
    assert "us_warrant" in PROFILES.get("US").instruments and "us_warrant" not in PROFILES.get("GB").instruments
    assert {c for c, p in PROFILES.countries.items() if p.cloud_act_partner} == {"GB", "AU"}


def test_every_offence_has_a_kind_a_source_and_patterns() -> None:
    assert {o.kind for o in PROFILES.offences} == {OffenceKind.PROTECTED_EXPRESSION, OffenceKind.NOT_A_CRIME_AT_HOME}
    library = statutes.load(PROFILES.offences)
    assert {o.kind for o in library.offences.values()} == set(OffenceKind)  # the lexicon adds the other classes
    assert all(o.source.strip() for o in library.offences.values())
    for offence in PROFILES.offences:
        assert offence.patterns and offence.source.strip(), offence.code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Insulting public officials (Art. 125 TCK)", "insulting_officials"),
        ("Discrediting the Armed Forces, Art. 280.3", "insulting_officials"),
        ("LÈSE-MAJESTÉ", "insulting_officials"),
        ("spreading FALSE information", "false_information"),
        ("Propaganda for non-traditional relations", "sexuality"),
        ("Adultery (zina)", "adultery"),
    ],
)
def test_listed_offences_are_recognised(text: str, code: str) -> None:
    assert code in [o.code for o in PROFILES.offences_in(text)]


@pytest.mark.parametrize(
    "text", ["Drug trafficking (art. 222-37 code pénal)", "Murder", "Extortion", "Child sexual abuse material"]
)
def test_ordinary_crimes_match_no_list(text: str) -> None:
    assert PROFILES.offences_in(text) == []


SEPARATORS = st.sampled_from([" ", "  ", ", ", " - ", "\n", "; ", " (", ") "])


@given(
    st.permutations(["insulting", "public", "officials"]),
    st.lists(SEPARATORS, min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_matching_ignores_order_case_and_punctuation(order: list[str], seps: list[str], upper: list[bool]) -> None:
    text = "".join(s + (w.upper() if u else w) for w, s, u in zip(order, seps, upper, strict=True))
    assert pattern_matches("insult* official*", words(text))


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_a_pattern_never_matches_text_without_its_stems(text: str) -> None:
    found = words(text)
    if not any(w.startswith("insult") for w in found):
        assert not pattern_matches("insult* official*", found)


def _csv(rows: dict[str, float], year: int = 2024) -> str:
    return "country,year,estimate\n" + "".join(f"{c},{year},{v}\n" for c, v in rows.items())


def test_a_newer_estimates_file_changes_tiers_and_the_version(tmp_path: Path) -> None:
    rows = {p.iso3: p.estimate for p in PROFILES.countries.values()}
    rows["FRA"] = -1.5
    before, after = jurisdictions.install_estimates(data_dir=tmp_path, text=_csv(rows))
    assert before.get("FR").tier == 1 and after.get("FR").tier == after.lowest_tier
    assert after.version != before.version and "wgi2024" in after.version
    assert jurisdictions.load(tmp_path).get("FR").tier == after.lowest_tier
    assert jurisdictions.load().get("FR").tier == 1  # the shipped snapshot is untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("country;year;estimate\nFRA;2024;1.0\n", "columns"),
        ("country,year,estimate\nFRANCE,2024,1.0\n", "alpha-3"),
        ("country,year,estimate\nFRA,2024,abc\n", "numbers"),
        ("country,year,estimate\nFRA,2024,7.5\n", "scale"),
        ("country,year,estimate\nFRA,2024,1.0\nFRA,2024,1.1\n", "twice"),
        ("country,year,estimate\nFRA,2023,1.0\nDEU,2024,1.1\n", "one year"),
        ("country,year,estimate\nFRA,2024,1.0\n", "no estimate for"),
    ],
)
def test_a_bad_estimates_file_is_refused_and_changes_nothing(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        jurisdictions.install_estimates(data_dir=tmp_path, text=text)
    assert not (tmp_path / jurisdictions.OVERRIDE).exists()
