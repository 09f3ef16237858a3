"""Classifying the offence an order is about: by the statutes it cites first, then by its words
in any of the lexicon's languages, then by what its instrument is.

- Citations (`citations.parse`) are resolved against the issuing country's codes in
  `data/statutes.toml`: "Art. 299 TCK" from Türkiye is Penal Code Art. 299, insulting the
  President; a bare "Art. 299" is read in the country's default code, and says so.
- The lexicon (`data/lexicon.toml`, and the English patterns of `jurisdictions.toml`) names
  offences in the EU's 24 languages and those of every profiled jurisdiction.
- An instrument may name its offence by what it is (a TCO removal order: terrorism).

Pure: the same text, country and instrument always give the same classification, so a
dry-run replays it. An order none of the three classifies is `unclassified`: the engine sends
it to a person (rule OF-1), it is never taken as benign."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.legal.policy import citations as citations_
from trustdesk.legal.policy.citations import Citation
from trustdesk.legal.policy.offences import Offence, OffenceKind, Words, _fold, _terms, pattern_matches, words

DATA = Path(__file__).parent / "data"
STATUTES = DATA / "statutes.toml"
LEXICON = DATA / "lexicon.toml"


@dataclass(frozen=True)
class Code:
    key: str
    name: str
    aliases: tuple[tuple[str, ...], ...]  # each a run of folded terms ('*' ends a stem)
    source: str
    checked: bool


@dataclass(frozen=True)
class Statute:
    country: str
    code: str
    article: str
    paragraph: str | None
    offence: str
    label: str

    def cite(self, codes: dict[str, Code]) -> str:
        paragraph = f"({self.paragraph})" if self.paragraph else ""
        return f"{self.country} {codes[self.code].name.split(' (')[0]} art. {self.article}{paragraph}"


@dataclass(frozen=True)
class CountryStatutes:
    default_code: str
    codes: dict[str, Code]
    statutes: tuple[Statute, ...]


@dataclass(frozen=True)
class Library:
    """The statutes and the lexicon, with the offences they may name."""

    version: str
    offences: dict[str, Offence]
    countries: dict[str, CountryStatutes]
    lexicon: dict[str, dict[str, tuple[str, ...]]]  # language -> offence code -> patterns
    language_names: dict[str, str]
    jurisdiction_languages: dict[str, tuple[str, ...]]
    instruments: dict[str, str]  # instrument code -> offence code


@dataclass(frozen=True)
class Finding:
    offence: Offence
    how: str  # citation, lexicon or instrument
    evidence: str

    def describe(self) -> str:
        return f"{self.offence.label} ({self.how}: {self.evidence})"


@dataclass(frozen=True)
class Classification:
    findings: tuple[Finding, ...]
    unknown_citations: tuple[str, ...]  # cited, but not an article the profiles map
    version: str
    citations: tuple[Citation, ...] = field(default=(), compare=False)

    @property
    def classified(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> frozenset[OffenceKind]:
        return frozenset(f.offence.kind for f in self.findings)

    def of_kind(self, kind: OffenceKind) -> list[Finding]:
        """The findings of one kind, one per offence, citations before words."""
        seen: dict[str, Finding] = {}
        for finding in self.findings:
            if finding.offence.kind is kind:
                seen.setdefault(finding.offence.code, finding)
        return list(seen.values())


# -- loading --------------------------------------------------------------------------------


def _alias(text: str) -> tuple[str, ...]:
    return tuple(t for part in text.split() for t in _terms(part))


def _country(code: str, raw: dict[str, Any], known: set[str]) -> CountryStatutes:
    codes = {
        key: Code(
            key, c["name"], tuple(a for a in (_alias(x) for x in c.get("aliases", [])) if a), c["source"], c.get("checked", True)
        )
        for key, c in raw["codes"].items()
    }
    if raw["default_code"] not in codes:
        raise ValueError(f"statutes: {code} has no code {raw['default_code']!r}")
    statutes = []
    for s in raw.get("statutes", []):
        if s["code"] not in codes or s["offence"] not in known:
            raise ValueError(f"statutes: {code} art. {s['article']} names an unknown code or offence")
        paragraph = str(s["paragraph"]).casefold() if "paragraph" in s else None
        article = citations_.normalise_article(str(s["article"]))
        statutes.append(Statute(code, s["code"], article, paragraph, s["offence"], s["label"]))
    return CountryStatutes(raw["default_code"], codes, tuple(statutes))


def parse_library(statutes: dict[str, Any], lexicon: dict[str, Any], offences: tuple[Offence, ...]) -> Library:
    extra = tuple(
        Offence(code=o["code"], kind=OffenceKind(o["kind"]), label=o["label"], patterns=(), source=o["source"])
        for o in lexicon.get("offences", [])
    )
    by_code = {o.code: o for o in (*offences, *extra)}
    known = set(by_code)
    languages: dict[str, dict[str, tuple[str, ...]]] = {}
    names: dict[str, str] = {}
    for lang, entry in lexicon["languages"].items():
        names[lang] = entry.get("name", lang)
        terms = {k: tuple(v) for k, v in entry.items() if k != "name"}
        unknown = set(terms) - known
        if unknown:
            raise ValueError(f"lexicon: language {lang} names unknown offences {sorted(unknown)}")
        languages[lang] = terms
    instruments = dict(lexicon.get("instruments", {}))
    if set(instruments.values()) - known:
        raise ValueError("lexicon: [instruments] names an unknown offence")
    return Library(
        version=f"statutes {statutes['version']}, lexicon {lexicon['version']}",
        offences=by_code,
        countries={c: _country(c, raw, known) for c, raw in statutes["countries"].items()},
        lexicon=languages,
        language_names=names,
        jurisdiction_languages={c: tuple(v) for c, v in lexicon.get("jurisdiction_languages", {}).items()},
        instruments=instruments,
    )


@cache
def load(offences: tuple[Offence, ...], statutes: Path = STATUTES, lexicon: Path = LEXICON) -> Library:
    """The library for the offences of the country profiles (`Jurisdictions.offences`)."""
    with statutes.open("rb") as fh:
        raw_statutes = tomllib.load(fh)
    with lexicon.open("rb") as fh:
        raw_lexicon = tomllib.load(fh)
    return parse_library(raw_statutes, raw_lexicon, offences)


# -- resolving citations --------------------------------------------------------------------


def _find(alias: tuple[str, ...], run: list[str]) -> int | None:
    """Where the alias's terms appear as consecutive words of `run`, or None."""
    for i in range(len(run) - len(alias) + 1):
        if all(_term_hit(t, run[i + j]) for j, t in enumerate(alias)):
            return i
    return None


def _term_hit(term: str, word: str) -> bool:
    return word.startswith(term[:-1]) if term.endswith("*") else word == term


def _codes_named(window: list[str], profile: CountryStatutes, *, nearest_last: bool) -> list[tuple[int, str]]:
    """(position, code) of every code of the profile that an alias names in the window. Only
    the issuing country's codes: 'StGB' in an Austrian order is not the German code."""
    hits = []
    for code in profile.codes.values():
        for alias in code.aliases:
            at = _find(alias, window)
            if at is not None:
                hits.append((-(at + len(alias)) if nearest_last else at, code.key))
    return sorted(hits)


def _resolve(citation: Citation, country: str, library: Library) -> list[tuple[str, str, bool]]:
    """(country, code, assumed) candidates for a citation: a code the citation names itself
    (the United States Code) wherever it is profiled, else the issuing country's code that an
    alias next to it names, else that country's default code (assumed)."""
    if citation.code is not None:
        owners = [c for c, p in library.countries.items() if citation.code in p.codes]
        return [(c, citation.code, False) for c in sorted(owners, key=lambda c: c != country)]
    profile = library.countries.get(country)
    if profile is None:
        return []
    before = _fold(citation.before)
    if citation.bare:  # the abbreviation must end right before the number
        named = [(at, k) for at, k in _codes_named(before, profile, nearest_last=True) if -at == len(before)]
        return [(country, named[0][1], False)] if named else []
    named = _codes_named(_fold(citation.after), profile, nearest_last=False) or _codes_named(before, profile, nearest_last=True)
    if named:
        return [(country, named[0][1], False)]
    return [(country, profile.default_code, True)]


def _statutes_for(citation: Citation, country: str, code: str, library: Library) -> list[Statute]:
    listed = [s for s in library.countries[country].statutes if s.code == code and s.article == citation.article]
    paragraph = (citation.paragraph or "").casefold() or None
    exact = [s for s in listed if s.paragraph is not None and s.paragraph == paragraph]
    return exact or [s for s in listed if s.paragraph is None]


def _by_citation(text: str, country: str, library: Library) -> tuple[list[Finding], list[str], list[Citation]]:
    findings, unknown = [], []
    cited = citations_.parse(text)
    for citation in cited:
        candidates = _resolve(citation, country, library)
        matched = False
        for owner, code, assumed in candidates:
            for statute in _statutes_for(citation, owner, code, library):
                codes = library.countries[owner].codes
                evidence = f"'{citation.text.strip()}' read as {statute.cite(codes)}: {statute.label}"
                evidence += " (no code named: read in the issuing country's default code)" if assumed else ""
                findings.append(Finding(library.offences[statute.offence], "citation", evidence))
                matched = True
            if matched:
                break
        if not matched and candidates:
            owner, code, _ = candidates[0]
            unknown.append(f"{citation.text.strip()} ({library.countries[owner].codes[code].name.split(' (')[0]})")
        elif not matched and not citation.bare:
            unknown.append(citation.text.strip())
    return findings, unknown, cited


def _by_words(text: str, library: Library, offences: tuple[Offence, ...]) -> list[Finding]:
    found: Words = words(text)
    findings = []
    for offence in offences:  # the English patterns of jurisdictions.toml
        pattern = offence.matched_pattern(found)
        if pattern is not None:
            findings.append(Finding(offence, "lexicon", f"en: '{pattern}'"))
    for lang, terms in library.lexicon.items():
        for code, patterns in terms.items():
            pattern = next((p for p in patterns if pattern_matches(p, found)), None)
            if pattern is not None:
                findings.append(Finding(library.offences[code], "lexicon", f"{lang}: '{pattern}'"))
    return findings


def classify(
    text: str, *, country: str, instrument: str, offences: tuple[Offence, ...], library: Library | None = None
) -> Classification:
    """What the order is about, from its citations, then its words, then its instrument."""
    library = library or load(offences)
    by_citation, unknown, cited = _by_citation(text, country.upper(), library)
    findings = [*by_citation, *_by_words(text, library, offences)]
    implied = library.instruments.get(instrument)
    if implied is not None:
        findings.append(Finding(library.offences[implied], "instrument", f"a {instrument} order is about it by law"))
    return Classification(tuple(findings), tuple(unknown), library.version, tuple(cited))
