"""EU and EEA membership is one fact, kept once: `eu = true` / `eea = true` in
legal/policy/data/jurisdictions.toml. No module lists the member states itself, and every
other list of countries that must be the member states equals the profiles."""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

import trustdesk
from trustdesk.emergency.threat_to_life import contact_book
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy.jurisdictions import eea_countries, eu_countries
from trustdesk.transparency.reports.template import load_template

SOURCE = Path(trustdesk.__file__).parent
CODE = re.compile(r"\b[A-Z]{2}\b")
# More member-state codes than this in one module or data file is a list of the member states
# (a mapping of a few countries to their language is not).
MOST = 9


def _codes_in_python(path: Path) -> set[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    strings = [t.string for t in tokens if t.type == tokenize.STRING]
    return {code for s in strings for code in CODE.findall(s)} & eea_countries()


def test_membership_is_read_from_the_profiles() -> None:
    with jurisdictions.PROFILES.open("rb") as fh:
        countries = tomllib.load(fh)["countries"]
    assert eu_countries() == {code for code, c in countries.items() if c["eu"]}
    assert eea_countries() == {code for code, c in countries.items() if c["eea"]}
    assert len(eu_countries()) == 27 and eea_countries() - eu_countries() == {"IS", "LI", "NO"} and "GR" in eu_countries()


def test_no_module_lists_the_member_states() -> None:
    offenders = {str(p.relative_to(SOURCE)): len(codes) for p in SOURCE.rglob("*.py") if len(codes := _codes_in_python(p)) > MOST}
    assert not offenders, (
        f"member states listed in code (read legal.policy.jurisdictions.eu_countries/eea_countries): {offenders}"
    )


def test_no_other_data_file_lists_them_but_the_contact_points() -> None:
    """Only the profiles say who is a member; the Art. 18 contact points (one authority per
    member state) must name exactly the member states."""
    listing = {
        str(p.relative_to(SOURCE))
        for p in SOURCE.rglob("*.toml")
        if len(set(re.findall(r'"([A-Z]{2})"', p.read_text(encoding="utf-8"))) & eea_countries()) > MOST
    }
    assert listing == {"emergency/data/art18_contact_points.toml"}
    book = contact_book()
    assert set(book.states) == eu_countries()
    assert book.establishment == jurisdictions.load().home


def test_the_dsa_template_uses_the_profiles() -> None:
    assert load_template().member_states == eu_countries()
