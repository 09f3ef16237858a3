"""The instrument catalogue, read from `data/instruments.toml` into frozen dataclasses.

Legal facts live in the data file, with their sources; this module only gives them types
and refuses a file that is not well formed, so a typo in the catalogue fails at start-up
and in the tests, never halfway through a request."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.platform.port import DataCategory

CATALOGUE = Path(__file__).parent / "data" / "instruments.toml"


class InstrumentCode(StrEnum):
    EU_EPOC = "eu_epoc"
    EU_EPOC_PR = "eu_epoc_pr"
    DSA_ART9 = "dsa_art9"
    DSA_ART10 = "dsa_art10"
    TCO_REMOVAL = "tco_removal"
    US_SUBPOENA = "us_subpoena"
    US_2703D = "us_2703d"
    US_WARRANT = "us_warrant"
    US_2703F = "us_2703f"
    US_EMERGENCY = "us_emergency"
    US_2705B_NDO = "us_2705b_ndo"
    NATIONAL_COURT_ORDER = "national_court_order"
    MLAT_CLOUD = "mlat_cloud"
    DSA_ART18 = "dsa_art18"


class IssuerKind(StrEnum):
    """What kind of body an agency is; the catalogue says which kinds may issue what."""

    POLICE = "police"
    PROSECUTOR = "prosecutor"
    INVESTIGATING_JUDGE = "investigating_judge"
    COURT = "court"
    REGULATOR = "regulator"


class Action(StrEnum):
    PRODUCE = "produce"
    PRESERVE = "preserve"
    REMOVE = "remove"
    INFORM = "inform"
    SUSPEND_NOTICE = "suspend_notice"


class Direction(StrEnum):
    INCOMING = "incoming"  # filed by an authority
    OUTGOING = "outgoing"  # sent by the provider (DSA Art. 18)


class UserNotice(StrEnum):
    NOTIFY = "notify"
    DELAY = "delay"
    ISSUER_DECIDES = "issuer_decides"
    SUSPENDED = "suspended"
    NOT_APPLICABLE = "not_applicable"


class EnforcingStateRule(StrEnum):
    NONE = "none"
    NOTIFY_FOR_TRAFFIC_CONTENT_UNLESS_DOMESTIC = "notify_for_traffic_content_unless_domestic"


class ClockKind(StrEnum):
    PRODUCE = "produce"
    PRESERVE = "preserve"
    REMOVE = "remove"
    UNDUE_DELAY = "undue_delay"
    PER_PROCESS = "per_process"
    UNTIL_DATE = "until_date"
    NONE = "none"


class RefusalReason(StrEnum):
    """Annex III of Regulation (EU) 2023/1543, used for every instrument's answer."""

    INCOMPLETE = "incomplete"
    MANIFEST_ERROR = "manifest_error"
    NOT_HELD = "not_held"
    IMMUNITIES = "immunities"
    THIRD_COUNTRY_CONFLICT = "third_country_conflict"
    OTHER = "other"


@dataclass(frozen=True)
class ClockRule:
    kind: ClockKind
    due_hours: int | None = None
    emergency_due_hours: int | None = None
    enforcing_state_wait_hours: int | None = None
    enforcing_state_objection_hours_emergency: int | None = None
    preserve_days: int | None = None
    extension_days: int | None = None
    max_extensions: int = 0
    restart_on_completion: bool = False
    preserve_removed_days: int | None = None
    internal_target_hours: int | None = None
    # The preservation family whose per-target limit the instrument preserves under or
    # produces against (a production order links to a hold of its family): "eu_e_evidence",
    # "us_sca". None: neither preserves nor follows a preservation.
    family: str | None = None


@dataclass(frozen=True)
class Section:
    """One element of the instrument's form, with its label in each language we have."""

    key: str
    required: bool
    labels: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True)
class Instrument:
    code: InstrumentCode
    name: str
    jurisdiction: str
    legal_basis: str
    sources: tuple[str, ...]  # URLs
    action: Action
    direction: Direction
    emergency_allowed: bool
    user_notice: UserNotice
    enforcing_state_rule: EnforcingStateRule
    issuers: dict[DataCategory, frozenset[IssuerKind]]
    issued_by: frozenset[IssuerKind]
    clock: ClockRule
    sections: tuple[Section, ...]
    notes: str

    @property
    def categories(self) -> frozenset[DataCategory]:
        return frozenset(self.issuers)

    @property
    def required_elements(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections if s.required)

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(lang for s in self.sections for lang in s.labels)

    def may_issue(self, issuer: IssuerKind, category: DataCategory) -> bool:
        return issuer in self.issuers.get(category, frozenset())


@dataclass(frozen=True)
class Catalogue:
    version: str
    instruments: dict[InstrumentCode, Instrument]
    refusal_reasons: dict[RefusalReason, str]
    sources: dict[str, str]

    def get(self, code: str) -> Instrument:
        """The instrument named `code`; KeyError with the known codes otherwise."""
        try:
            return self.instruments[InstrumentCode(code)]
        except ValueError as exc:
            raise KeyError(f"unknown instrument '{code}'; known: {', '.join(sorted(self.instruments))}") from exc

    @property
    def incoming(self) -> list[Instrument]:
        return [i for i in self.instruments.values() if i.direction is Direction.INCOMING]


def _section(raw: dict[str, Any]) -> Section:
    labels = dict(raw["label"])
    if "en" not in labels:
        raise ValueError(f"section '{raw['key']}' has no English label")
    return Section(key=raw["key"], required=bool(raw["required"]), labels=labels)


def _instrument(raw: dict[str, Any], sources: dict[str, str]) -> Instrument:
    issuers = {DataCategory(c): frozenset(IssuerKind(k) for k in kinds) for c, kinds in raw["issuers"].items()}
    issued_by = raw.get("issued_by")
    union = frozenset().union(*issuers.values()) if issuers else frozenset()
    return Instrument(
        code=InstrumentCode(raw["code"]),
        name=raw["name"],
        jurisdiction=raw["jurisdiction"],
        legal_basis=raw["legal_basis"],
        sources=tuple(sources[s] for s in raw["sources"]),
        action=Action(raw["action"]),
        direction=Direction(raw["direction"]),
        emergency_allowed=bool(raw["emergency_allowed"]),
        user_notice=UserNotice(raw["user_notice"]),
        enforcing_state_rule=EnforcingStateRule(raw["enforcing_state_rule"]),
        issuers=issuers,
        issued_by=frozenset(IssuerKind(k) for k in issued_by) if issued_by is not None else union,
        clock=ClockRule(**{**raw["clock"], "kind": ClockKind(raw["clock"]["kind"])}),
        sections=tuple(_section(s) for s in raw.get("sections", [])),
        notes=raw.get("notes", ""),
    )


def parse_catalogue(raw: dict[str, Any]) -> Catalogue:
    sources = dict(raw["sources"])
    instruments = [_instrument(i, sources) for i in raw["instruments"]]
    by_code = {i.code: i for i in instruments}
    if len(by_code) != len(instruments):
        raise ValueError("an instrument code appears twice in the catalogue")
    reasons = {RefusalReason(r["code"]): r["label"] for r in raw["refusal_reasons"]}
    return Catalogue(version=raw["version"], instruments=by_code, refusal_reasons=reasons, sources=sources)


@cache
def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    with path.open("rb") as fh:
        return parse_catalogue(tomllib.load(fh))
