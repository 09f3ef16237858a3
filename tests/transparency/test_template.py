"""The DSA template file: well formed, its instruments are in the catalogue, its Member
States are the EU's, and it names its sources."""

from __future__ import annotations

import pycountry

from trustdesk.legal.instruments import Direction, load_catalogue
from trustdesk.transparency.reports.template import load_template


def test_orders_are_incoming_eu_instruments_of_the_catalogue() -> None:
    template, catalogue = load_template(), load_catalogue()
    for code in template.act_orders | template.information_orders:
        instrument = catalogue.get(code)
        assert instrument.direction is Direction.INCOMING and instrument.jurisdiction == "EU"
    assert {catalogue.get(c).action.value for c in template.act_orders} == {"remove"}


def test_member_states_are_27_real_countries() -> None:
    states = load_template().member_states
    assert len(states) == 27 and all(pycountry.countries.get(alpha_2=code) for code in states)
    assert "GR" in states and "EL" not in states and "GB" not in states


def test_sources_and_table_codes() -> None:
    template = load_template()
    assert template.sources["eu_2024_2835"].startswith("https://eur-lex.europa.eu/")
    codes = [t.code for s in template.sections for t in s.tables]
    assert len(codes) == len(set(codes)) and all(
        c.startswith(s.code + ".") for s in template.sections for c in [t.code for t in s.tables]
    )
