"""The catalogue against shared/LEGAL.md: every instrument present, well formed, and the
rules a reviewer relies on (who may issue what, which clock) encoded as the digest says."""

from __future__ import annotations

import tomllib
from urllib.parse import urlsplit

import pytest

from trustdesk.legal.instruments import (
    CATALOGUE,
    Action,
    ClockKind,
    Direction,
    InstrumentCode,
    IssuerKind,
    RefusalReason,
    load_catalogue,
    parse_catalogue,
)
from trustdesk.platform.port import DataCategory

# Each row of LEGAL.md's "Legal instruments" table, and the catalogue entry that carries it.
LEGAL_MD_ROWS = {
    "EU European Production Order (EPOC)": InstrumentCode.EU_EPOC,
    "EU European Preservation Order (EPOC-PR)": InstrumentCode.EU_EPOC_PR,
    "DSA Art. 9 order to act against illegal content": InstrumentCode.DSA_ART9,
    "DSA Art. 10 order to provide information": InstrumentCode.DSA_ART10,
    "TCO removal order": InstrumentCode.TCO_REMOVAL,
    "Threat to life, DSA Art. 18": InstrumentCode.DSA_ART18,
    "US subpoena (2703(c)(2))": InstrumentCode.US_SUBPOENA,
    "US 2703(d) order": InstrumentCode.US_2703D,
    "US search warrant": InstrumentCode.US_WARRANT,
    "US preservation (2703(f))": InstrumentCode.US_2703F,
    "US emergency disclosure (2702(b)(8), (c)(4))": InstrumentCode.US_EMERGENCY,
    "Non-disclosure order (2705(b))": InstrumentCode.US_2705B_NDO,
    "National court order": InstrumentCode.NATIONAL_COURT_ORDER,
    "MLAT / CLOUD Act agreement request": InstrumentCode.MLAT_CLOUD,
}
CATALOGUE_DATA = load_catalogue()
ALL = list(CATALOGUE_DATA.instruments.values())


def test_every_instrument_of_legal_md_is_in_the_catalogue() -> None:
    assert set(LEGAL_MD_ROWS.values()) == set(CATALOGUE_DATA.instruments)


def test_annex_iii_reasons_are_all_there() -> None:
    assert set(CATALOGUE_DATA.refusal_reasons) == set(RefusalReason)


@pytest.mark.parametrize("instrument", ALL, ids=lambda i: i.code.value)
def test_instrument_is_well_formed(instrument) -> None:
    assert instrument.name and instrument.legal_basis
    for url in instrument.sources:
        assert urlsplit(url).scheme == "https" and urlsplit(url).netloc
    if instrument.code not in (InstrumentCode.NATIONAL_COURT_ORDER,):
        assert instrument.sources, "every statutory instrument names its source"
    keys = [s.key for s in instrument.sections]
    assert len(keys) == len(set(keys))
    assert all("en" in s.labels for s in instrument.sections)
    if instrument.direction is Direction.INCOMING:
        assert instrument.required_elements, "an incoming instrument has required elements"
        assert instrument.issued_by, "someone may issue it"
    if instrument.action in (Action.PRODUCE, Action.PRESERVE):
        assert instrument.categories, "a data order names the categories it may ask for"
    else:
        assert not instrument.categories


def test_clock_kinds_fit_the_action() -> None:
    expected = {Action.PRESERVE: {ClockKind.PRESERVE}, Action.REMOVE: {ClockKind.REMOVE, ClockKind.UNDUE_DELAY}}
    for instrument in ALL:
        if instrument.action in expected:
            assert instrument.clock.kind in expected[instrument.action], instrument.code


def test_e_evidence_prosecutor_may_not_order_traffic_or_content() -> None:
    epoc = CATALOGUE_DATA.get("eu_epoc")
    assert epoc.may_issue(IssuerKind.PROSECUTOR, DataCategory.SUBSCRIBER)
    assert epoc.may_issue(IssuerKind.PROSECUTOR, DataCategory.IDENTIFICATION)
    assert not epoc.may_issue(IssuerKind.PROSECUTOR, DataCategory.TRAFFIC)
    assert not epoc.may_issue(IssuerKind.PROSECUTOR, DataCategory.CONTENT)
    assert epoc.may_issue(IssuerKind.INVESTIGATING_JUDGE, DataCategory.CONTENT)
    assert not epoc.may_issue(IssuerKind.POLICE, DataCategory.SUBSCRIBER)


def test_the_clocks_of_legal_md() -> None:
    c = CATALOGUE_DATA
    epoc = c.get("eu_epoc").clock
    assert (epoc.due_hours, epoc.emergency_due_hours, epoc.enforcing_state_objection_hours_emergency) == (240, 8, 96)
    assert (c.get("eu_epoc_pr").clock.preserve_days, c.get("eu_epoc_pr").clock.extension_days) == (60, 30)
    tco = c.get("tco_removal").clock
    assert tco.due_hours == 1 and tco.restart_on_completion
    assert (
        c.get("us_2703f").clock.preserve_days,
        c.get("us_2703f").clock.extension_days,
        c.get("us_2703f").clock.max_extensions,
    ) == (90, 90, 1)
    assert c.get("us_warrant").categories == frozenset(DataCategory)
    assert c.get("us_subpoena").categories == {DataCategory.SUBSCRIBER, DataCategory.IDENTIFICATION}


def test_a_catalogue_with_an_unknown_category_is_refused() -> None:
    raw = tomllib.loads(CATALOGUE.read_text())
    raw["instruments"][0]["issuers"]["location"] = ["court"]
    with pytest.raises(ValueError):
        parse_catalogue(raw)


def test_a_duplicate_instrument_is_refused() -> None:
    raw = tomllib.loads(CATALOGUE.read_text())
    raw["instruments"].append(raw["instruments"][0])
    with pytest.raises(ValueError, match="twice"):
        parse_catalogue(raw)


def test_unknown_code_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="eu_epoc"):
        CATALOGUE_DATA.get("fbi_letter")
