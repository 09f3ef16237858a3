"""Country profiles: EU/EEA membership, the instruments a country may use with us, CLOUD Act
partners, a rule-of-law tier from the World Bank WGI estimate, and offences we will not serve.

Read from `data/jurisdictions.toml` and the official estimates `data/wgi_rule_of_law.csv` (World
Bank WGI 2024 Update, data year 2023, 213 economies), whose source, release, year and digest sit
next to it in `data/wgi_rule_of_law.provenance.toml`; the loader refuses estimates that do not
match their provenance. A newer release loaded with `trustdesk legal jurisdictions update` lives
under the data directory, with the provenance the command writes, and takes precedence. The
version every decision records names both files, so a refreshed index is visible in the record
of every later decision."""

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
PROVENANCE_SUFFIX = ".provenance.toml"
ESTIMATE_RANGE = (-3.0, 3.0)
PERCENTILE_RANGE = (0.0, 100.0)

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
    percentiles: dict[str, float] | None = None  # WGI percentile rank, where the file has one


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
    """A WGI extract, one year per file: the columns iso3, country (the name), year, estimate
    and, optionally, percentile_rank (the shape of the shipped file and of the World Bank's
    releases as extracted in shared/data/wgi-rule-of-law); or the older country (ISO alpha-3),
    year, estimate. Refuses anything else with the line at fault, so a bad download changes
    nothing."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = set(reader.fieldnames or ())
    key = "iso3" if "iso3" in columns else "country"
    if {key, "year", "estimate"} - columns:
        raise InvalidInput("The estimates file needs the columns iso3 (or country), year, estimate.")
    values: dict[str, float] = {}
    percentiles: dict[str, float] = {}
    years: set[int] = set()
    for line, row in enumerate(reader, start=2):
        code, value, year = _estimate_row(row, line, key)
        if code in values:
            raise InvalidInput(f"Line {line}: {code} appears twice.")
        values[code] = value
        years.add(year)
        rank = _percentile(row.get("percentile_rank"), line)
        if rank is not None:
            percentiles[code] = rank
    if len(years) != 1:
        raise InvalidInput(f"The estimates file must hold one year, not {sorted(years) or 'none'}.")
    return Estimates(years.pop(), values, hashlib.sha256(text.encode()).hexdigest(), origin, percentiles or None)


def _percentile(raw: str | None, line: int) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        rank = float(raw)
    except ValueError:
        raise InvalidInput(f"Line {line}: percentile_rank must be a number.") from None
    if not PERCENTILE_RANGE[0] <= rank <= PERCENTILE_RANGE[1]:
        raise InvalidInput(f"Line {line}: percentile rank {rank} is outside 0 to 100.")
    return rank


def _estimate_row(row: dict[str, Any], line: int, key: str = "country") -> tuple[str, float, int]:
    code = (row.get(key) or "").strip().upper()
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


def provenance_path(estimates_file: Path) -> Path:
    return estimates_file.with_name(estimates_file.stem + PROVENANCE_SUFFIX)


def read_provenance(estimates_file: Path, estimates: Estimates) -> dict[str, Any]:
    """The provenance kept with an estimates file; refuses one that is not this file's (its
    digest or year differ), so the source a decision names is the data's own."""
    path = provenance_path(estimates_file)
    if not path.exists():
        return {"release": "not recorded", "source": str(estimates_file), "data_year": estimates.year}
    with path.open("rb") as fh:
        provenance = tomllib.load(fh)
    if provenance.get("sha256") != estimates.sha256 or int(provenance.get("data_year", -1)) != estimates.year:
        raise ValueError(f"{path} does not describe {estimates_file}: digest or year differ; reinstall the estimates.")
    return provenance


def parse(raw: dict[str, Any], estimates: Estimates, provenance: dict[str, Any] | None = None) -> Jurisdictions:
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
    if provenance is not None:  # the data's own source and year, not the profile file's words
        release = provenance.get("release", "not recorded")
        index |= {
            "release": str(release),
            "data_year": str(estimates.year),
            "data_source": str(provenance.get("source", "")),
            "status": f"{release}, data year {estimates.year}",
        }
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
    estimates = parse_estimates(text, origin=str(estimates_file))
    return parse(raw, estimates, read_provenance(estimates_file, estimates))


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


@dataclass(frozen=True)
class TierChange:
    code: str
    name: str
    before: float | None
    after: float | None
    tier_before: int
    tier_after: int


def changes(before: Jurisdictions, after: Jurisdictions) -> list[TierChange]:
    """Every profiled country whose estimate or tier differs between two loads."""
    return [
        TierChange(code, p.name, before.countries[code].estimate, p.estimate, before.countries[code].tier, p.tier)
        for code, p in after.countries.items()
        if code in before.countries and (before.countries[code].estimate, before.countries[code].tier) != (p.estimate, p.tier)
    ]


def check_estimates(text: str, *, data_dir: Path | None = None) -> Estimates:
    """Validate a release without installing it: well formed, an estimate for every profiled
    country, and not older than the data in force (an update takes a newer release)."""
    estimates = parse_estimates(text, origin="upload")
    with PROFILES.open("rb") as fh:
        raw = tomllib.load(fh)
    missing = sorted(c["iso3"] for c in raw["countries"].values() if c["iso3"] not in estimates.values)
    if missing:
        raise InvalidInput(f"The file has no estimate for {', '.join(missing)}; every profiled country needs one.")
    current = load(data_dir).estimates_year
    if estimates.year < current:
        raise InvalidInput(f"The file holds data year {estimates.year}, older than the {current} in force; take a newer release.")
    return estimates


def install_estimates(
    *, data_dir: Path, text: str, source: str = "", release: str = "", installed: str = ""
) -> tuple[Jurisdictions, Jurisdictions]:
    """Validate a newer estimates file and install it under `data_dir`, with a provenance file
    that keeps its source, release, year and digest next to it; returns the profiles before
    and after. Nothing is written unless the whole file is valid."""
    before = load(data_dir)
    estimates = check_estimates(text, data_dir=data_dir)
    target = data_dir / OVERRIDE
    target.parent.mkdir(parents=True, exist_ok=True)
    provenance = {
        "file": target.name,
        "sha256": estimates.sha256,
        "data_year": estimates.year,
        "rows": len(estimates.values),
        "release": release or "not stated at install",
        "source": source or "not stated at install",
        "installed": installed,
    }
    body = "".join(f"{k} = {_toml_value(v)}\n" for k, v in provenance.items())
    for path, content in ((provenance_path(target), body), (target, text)):
        part = path.with_name(path.name + ".part")
        part.write_text(content, encoding="utf-8")
        part.replace(path)
    return before, load(data_dir)


def _toml_value(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    text = " ".join(str(value).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
