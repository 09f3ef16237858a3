"""Country profiles: EU/EEA membership, the instruments a country may use with us, CLOUD Act
partners, a rule-of-law tier from the World Bank WGI estimate, and offences we will not serve.

Read from `data/jurisdictions.toml` and the estimates snapshot `data/wgi_rule_of_law.csv`; a
newer estimates file loaded with `trustdesk legal jurisdictions update` lives under the data
directory and takes precedence. The version every decision records names both files, so a
refreshed index is visible in the record of every later decision."""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import InstrumentCode
from trustdesk.legal.policy.offences import Offence, OffenceKind, match

DATA = Path(__file__).parent / "data"
PROFILES = DATA / "jurisdictions.toml"
SHIPPED_ESTIMATES = DATA / "wgi_rule_of_law.csv"
OVERRIDE = Path("policy") / "wgi_rule_of_law.csv"  # under settings.data_dir
ESTIMATE_RANGE = (-3.0, 3.0)

__all__ = [
    "CountryProfile",
    "Jurisdictions",
    "Offence",
    "OffenceKind",
    "eea_countries",
    "eu_countries",
    "load",
    "parse_estimates",
    "install_estimates",
]


class Group(StrEnum):
    EU = "eu"
    EEA = "eea"
    US = "us"
    OTHER = "other"


@dataclass(frozen=True)
class Tier:
    tier: int
    label: str
    min_estimate: float


@dataclass(frozen=True)
class LocalOffence:
    statute: str
    offence: str


@dataclass(frozen=True)
class CountryProfile:
    code: str
    iso3: str
    name: str
    eu: bool
    eea: bool
    estimate: float | None
    tier: int
    tier_label: str
    instruments: frozenset[InstrumentCode]
    cloud_act_partner: bool
    local_offences: tuple[LocalOffence, ...]

    @property
    def group(self) -> Group:
        return Group.EU if self.eu else Group.EEA if self.eea else Group.US if self.code == "US" else Group.OTHER


@dataclass(frozen=True)
class Estimates:
    year: int
    values: dict[str, float]  # by ISO alpha-3
    sha256: str
    origin: str


@dataclass(frozen=True)
class Jurisdictions:
    version: str
    file_version: str
    home: str
    index: dict[str, str]
    tiers: tuple[Tier, ...]
    estimates_year: int
    countries: dict[str, CountryProfile]
    offences: tuple[Offence, ...]
    groups: dict[str, frozenset[InstrumentCode]]

    def get(self, code: str) -> CountryProfile:
        """The profile of an ISO alpha-2 country, or an unlisted country at the lowest tier:
        a state we know nothing about gets the most review, never the least."""
        if code in self.countries:
            return self.countries[code]
        lowest = self.tiers[-1]
        return CountryProfile(
            code, "", code, False, False, None, lowest.tier, f"{lowest.label} (not profiled)", self.groups[Group.OTHER], False, ()
        )

    @property
    def lowest_tier(self) -> int:
        return self.tiers[-1].tier

    def offences_in(self, text: str) -> list[Offence]:
        return match(self.offences, text)


def tier_for(tiers: tuple[Tier, ...], estimate: float | None) -> Tier:
    if estimate is None:
        return tiers[-1]
    return next(t for t in tiers if estimate >= t.min_estimate)


def parse_estimates(text: str, *, origin: str) -> Estimates:
    """A WGI extract: columns country (ISO alpha-3), year, estimate; one year per file.
    Refuses anything else with the line at fault, so a bad download changes nothing."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or {"country", "year", "estimate"} - set(reader.fieldnames):
        raise InvalidInput("The estimates file needs the columns country, year, estimate.")
    values: dict[str, float] = {}
    years: set[int] = set()
    for line, row in enumerate(reader, start=2):
        code, value, year = _estimate_row(row, line)
        if code in values:
            raise InvalidInput(f"Line {line}: {code} appears twice.")
        values[code] = value
        years.add(year)
    if len(years) != 1:
        raise InvalidInput(f"The estimates file must hold one year, not {sorted(years) or 'none'}.")
    return Estimates(years.pop(), values, hashlib.sha256(text.encode()).hexdigest(), origin)


def _estimate_row(row: dict[str, Any], line: int) -> tuple[str, float, int]:
    code = (row.get("country") or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInput(f"Line {line}: '{code}' is not an ISO 3166-1 alpha-3 code.")
    try:
        value, year = float(row["estimate"]), int(row["year"])
    except (TypeError, ValueError):
        raise InvalidInput(f"Line {line}: year and estimate must be numbers.") from None
    if not ESTIMATE_RANGE[0] <= value <= ESTIMATE_RANGE[1]:
        raise InvalidInput(f"Line {line}: {value} is outside the WGI scale (about -2.5 to 2.5).")
    return code, value, year


def _country(
    code: str,
    raw: dict[str, Any],
    *,
    groups: dict[str, list[str]],
    tiers: tuple[Tier, ...],
    estimates: Estimates,
    partners: frozenset[str],
) -> CountryProfile:
    estimate = estimates.values.get(raw["iso3"])
    tier = tier_for(tiers, estimate)
    group = "eu" if raw["eu"] else "eea" if raw["eea"] else "us" if code == "US" else "other"
    instruments = frozenset(InstrumentCode(i) for i in raw.get("instruments", groups[group]))
    local = tuple(LocalOffence(o["statute"], o["offence"]) for o in raw.get("local_offences", []))
    return CountryProfile(
        code,
        raw["iso3"],
        raw["name"],
        bool(raw["eu"]),
        bool(raw["eea"]),
        estimate,
        tier.tier,
        tier.label,
        instruments,
        code in partners,
        local,
    )


def parse(raw: dict[str, Any], estimates: Estimates) -> Jurisdictions:
    tiers = tuple(sorted((Tier(**t) for t in raw["rule_of_law"]["tiers"]), key=lambda t: -t.min_estimate))
    offences = tuple(
        Offence(code=o["code"], kind=OffenceKind(o["kind"]), label=o["label"], patterns=tuple(o["patterns"]), source=o["source"])
        for o in raw["offences"]
    )
    partners = frozenset(raw["agreements"]["cloud_act"]["partners"])
    countries = {
        code: _country(code, c, groups=raw["instrument_groups"], tiers=tiers, estimates=estimates, partners=partners)
        for code, c in raw["countries"].items()
    }
    known = {o.code for o in offences}
    for profile in countries.values():
        unknown = {lo.offence for lo in profile.local_offences} - known
        if unknown:
            raise ValueError(f"{profile.code} names unknown offence codes {sorted(unknown)}")
    index = {k: str(v) for k, v in raw["rule_of_law"].items() if k != "tiers"}
    version = f"{raw['version']}+wgi{estimates.year}.{estimates.sha256[:8]}"
    groups = {g: frozenset(InstrumentCode(i) for i in codes) for g, codes in raw["instrument_groups"].items()}
    return Jurisdictions(
        version, raw["version"], raw["home_jurisdiction"], index, tiers, estimates.year, countries, offences, groups
    )


def estimates_path(data_dir: Path | None) -> Path:
    if data_dir is not None and (data_dir / OVERRIDE).exists():
        return data_dir / OVERRIDE
    return SHIPPED_ESTIMATES


@cache
def _load(profiles: Path, estimates_file: Path, _mtime: float) -> Jurisdictions:
    with profiles.open("rb") as fh:
        raw = tomllib.load(fh)
    text = estimates_file.read_text(encoding="utf-8")
    return parse(raw, parse_estimates(text, origin=str(estimates_file)))


def load(data_dir: Path | None = None, *, profiles: Path = PROFILES) -> Jurisdictions:
    """The profiles with the newest estimates installed under `data_dir` (or the shipped
    snapshot). Cached per file and modification time, so an update is seen at once."""
    path = estimates_path(data_dir)
    return _load(profiles, path, path.stat().st_mtime)


@cache
def _membership(profiles: Path) -> dict[str, frozenset[str]]:
    with profiles.open("rb") as fh:
        countries = tomllib.load(fh)["countries"]
    return {group: frozenset(code for code, c in countries.items() if c[group]) for group in (Group.EU, Group.EEA)}


def eu_countries(profiles: Path = PROFILES) -> frozenset[str]:
    """The EU member states, ISO 3166-1 alpha-2 (Greece is GR), as the profiles say: the one
    list every domain uses (statements of reasons, the DSA report, the emergency lane)."""
    return _membership(profiles)[Group.EU]


def eea_countries(profiles: Path = PROFILES) -> frozenset[str]:
    """The EEA: the EU and Iceland, Liechtenstein and Norway, as the profiles say."""
    return _membership(profiles)[Group.EEA]


def install_estimates(*, data_dir: Path, text: str) -> tuple[Jurisdictions, Jurisdictions]:
    """Validate a newer estimates file and install it under `data_dir`; returns the profiles
    before and after. Nothing is written unless the whole file is valid."""
    before = load(data_dir)
    estimates = parse_estimates(text, origin="upload")
    with PROFILES.open("rb") as fh:
        raw = tomllib.load(fh)
    missing = sorted(c["iso3"] for c in raw["countries"].values() if c["iso3"] not in estimates.values)
    if missing:
        raise InvalidInput(f"The file has no estimate for {', '.join(missing)}; every profiled country needs one.")
    target = data_dir / OVERRIDE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".part").write_text(text, encoding="utf-8")
    target.with_suffix(".part").replace(target)
    return before, load(data_dir)
