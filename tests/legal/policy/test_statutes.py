"""Offence classes from what an order cites, then from its words in any language, then from
its instrument (issue #16 item 2), and the engine's use of them: protected expression refused
by its statute alone or in the issuer's language, an unclassifiable order sent to a person."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.legal.policy.test_engine import CAT, decide, facts
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.policy import jurisdictions, statutes
from trustdesk.legal.policy.engine import Outcome, classify
from trustdesk.legal.policy.offences import OffenceKind as K

PROFILES = jurisdictions.load()
LIBRARY = statutes.load(PROFILES.offences)
EU_LANGUAGES = {"bg", "hr", "cs", "da", "nl", "en", "et", "fi", "fr", "de", "el", "hu", "ga", "it", "lv", "lt", "mt", "pl", "pt", "ro", "sk", "sl", "es", "sv"}  # fmt: skip
CORE = {"insulting_officials", "false_information", "sexuality", "blasphemy", "terrorism", "child_sexual_abuse"}


def kinds(text: str, country: str, instrument: str = "national_court_order") -> set[K]:
    return set(statutes.classify(text, country=country, instrument=instrument, offences=PROFILES.offences).kinds)


def test_the_lexicon_covers_the_eu_languages_and_every_profiled_jurisdiction() -> None:
    assert EU_LANGUAGES <= set(LIBRARY.lexicon)
    assert set(LIBRARY.jurisdiction_languages) == set(PROFILES.countries)
    needed = EU_LANGUAGES | {lang for langs in LIBRARY.jurisdiction_languages.values() for lang in langs}
    for lang in needed - {"en"}:  # English is also read through jurisdictions.toml's patterns
        assert CORE <= set(LIBRARY.lexicon[lang]), lang


def test_every_statute_is_sourced_and_names_a_known_offence() -> None:
    assert {"TR", "RU", "BY", "CN", "IR", "TH", "US", "DE", "FR"} <= set(LIBRARY.countries)
    for code, country in LIBRARY.countries.items():
        assert code in PROFILES.countries and country.default_code in country.codes
        assert all(c.source.strip() for c in country.codes.values())
        assert all(s.offence in LIBRARY.offences for s in country.statutes)


@pytest.mark.parametrize(
    ("text", "country", "kind"),
    [
        ("Art. 299 TCK", "TR", K.PROTECTED_EXPRESSION),
        ("Art. 299", "TR", K.PROTECTED_EXPRESSION),  # no code named: the country's penal code
        ("TCK 299. madde", "TR", K.PROTECTED_EXPRESSION),
        ("Article 280.3 of the Criminal Code", "RU", K.PROTECTED_EXPRESSION),
        ("ч. 1 ст. 207.3 УК РФ", "RU", K.PROTECTED_EXPRESSION),
        ("ст. 6.21 КоАП РФ", "RU", K.PROTECTED_EXPRESSION),
        ("刑法第293条", "CN", K.PROTECTED_EXPRESSION),
        ("มาตรา 112 ประมวลกฎหมายอาญา", "TH", K.PROTECTED_EXPRESSION),
        ("PPC 295-C", "PK", K.PROTECTED_EXPRESSION),
        ("18 U.S.C. § 2252A(a)(2)", "US", K.CHILD_SEXUAL_EXPLOITATION),
        ("18 USC 2339B", "US", K.TERRORISM),
        ("§ 184b StGB", "DE", K.CHILD_SEXUAL_EXPLOITATION),
        ("art. 421-2-1 du code pénal", "FR", K.TERRORISM),
        ("art. 222-37 code pénal", "FR", K.SERIOUS_CRIME),
        ("刑法第246条", "CN", K.NOT_A_CRIME_AT_HOME),
    ],
)
def test_a_citation_alone_classifies_the_order(text: str, country: str, kind: K) -> None:
    assert kind in kinds(text, country)


def test_the_same_article_means_what_the_issuing_country_says() -> None:
    assert K.PROTECTED_EXPRESSION in kinds("Art. 299", "TR")
    assert kinds("Art. 299", "DE") == set()  # § 299 StGB is commercial bribery: not mapped, so a person looks
    assert kinds("§ 130 StGB", "AT") == set()  # the Austrian StGB is not the German one
    assert K.PROTECTED_EXPRESSION in kinds("Turkish Penal Code Art. 125(3)", "TR")  # the paragraph decides
    assert kinds("TCK Art. 125", "TR") == {K.NOT_A_CRIME_AT_HOME}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Cumhurbaşkanına hakaret", K.PROTECTED_EXPRESSION),
        ("Дискредитация вооружённых сил", K.PROTECTED_EXPRESSION),
        ("ПРОПАГАНДА НЕТРАДИЦИОННЫХ СЕКСУАЛЬНЫХ ОТНОШЕНИЙ", K.PROTECTED_EXPRESSION),
        ("Znieważenie Prezydenta RP", K.PROTECTED_EXPRESSION),
        ("Verunglimpfung des Bundespräsidenten", K.PROTECTED_EXPRESSION),
        ("Offense au chef de l'État", K.PROTECTED_EXPRESSION),
        ("vilipendio della Repubblica", K.PROTECTED_EXPRESSION),
        ("difusión de noticias falsas", K.PROTECTED_EXPRESSION),
        ("涉嫌寻衅滋事罪", K.PROTECTED_EXPRESSION),
        ("نشر اکاذیب", K.PROTECTED_EXPRESSION),
        ("ازدراء الأديان", K.PROTECTED_EXPRESSION),
        ("หมิ่นพระบรมเดชานุภาพ", K.PROTECTED_EXPRESSION),
        ("Penistaan agama", K.PROTECTED_EXPRESSION),
        ("Trafic de stupéfiants", K.SERIOUS_CRIME),
        ("Kinderpornographie", K.CHILD_SEXUAL_EXPLOITATION),
        ("Τρομοκρατική οργάνωση", K.TERRORISM),
        ("Meurtre", K.SERIOUS_CRIME),
        ("Oszustwo", K.SERIOUS_CRIME),
    ],
)
def test_the_issuers_language_classifies_the_order(text: str, kind: K) -> None:
    assert kind in kinds(text, "XX")


def test_an_instrument_may_name_its_offence() -> None:
    assert kinds("", "FR", "tco_removal") == {K.TERRORISM}
    assert kinds("", "US", "us_emergency") == {K.SERIOUS_CRIME}
    assert kinds("", "US", "us_subpoena") == set()


def test_protected_expression_cited_only_by_statute_is_refused() -> None:
    court = {"instrument": CAT.get("national_court_order"), "issuer": IssuerKind.COURT}
    for country, text in (
        ("TR", "TCK m. 299"),
        ("RU", "ст. 207.3 УК РФ"),
        ("TH", "มาตรา 112"),
        ("BY", "Art. 368 of the Criminal Code"),
    ):
        proposal = decide(country=country, offence=text, **court)
        assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("PE-1",), country
        assert "citation" in proposal.reasons[0].detail


def test_protected_expression_named_in_the_issuers_language_is_refused() -> None:
    court = {"instrument": CAT.get("national_court_order"), "issuer": IssuerKind.COURT}
    for country, text in (("TR", "Cumhurbaşkanına hakaret"), ("RU", "Дискредитация армии"), ("PL", "znieważenie Prezydenta")):
        proposal = decide(country=country, offence=text, **court)
        assert proposal.outcome is Outcome.REFUSE and proposal.rule_ids == ("PE-1",), country


def test_an_unclassified_order_goes_to_a_person_never_through() -> None:
    plain = decide(offence="Drug trafficking (art. 222-37 code pénal)")
    unknown = decide(offence="Infraction à l'article L. 4711 (voir pièce jointe)")
    assert "OF-1" not in plain.rule_ids and "OF-1" in unknown.rule_ids
    assert unknown.outcome is Outcome.PRODUCE and unknown.extra_reviews == plain.extra_reviews + 1
    empty = decide(offence="")
    assert "OF-1" in empty.rule_ids and empty.extra_reviews == 1


def test_an_unmapped_citation_is_named_for_the_person() -> None:
    proposal = decide(country="DE", offence="§ 299 StGB")
    reason = next(r for r in proposal.reasons if r.rule_id == "OF-1")
    assert "§ 299" in reason.detail and "Strafgesetzbuch" in reason.detail


def test_the_classification_is_the_same_for_the_same_facts() -> None:
    f = replace(facts(), country="TR", offence="Art. 299 TCK")
    assert classify(f, PROFILES) == classify(f, PROFILES)
