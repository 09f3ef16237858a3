"""The policy file, typed. `parse_policy` refuses a file that is not well formed or that
would lower the bar for a weaker rule-of-law tier, so a bad draft fails before it decides
anything, in the dry-run as in production."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import InstrumentCode, IssuerKind
from trustdesk.platform.port import DataCategory

POLICY = Path(__file__).parent / "data" / "policy.toml"


@dataclass(frozen=True)
class Rule:
    """Any rule: its id is what a reason cites, its text what the reason says."""

    id: str
    text: str


@dataclass(frozen=True)
class Gate:
    rule: Rule
    instruments: frozenset[InstrumentCode]  # empty: any
    issuers: frozenset[IssuerKind]
    groups: frozenset[str]
    categories: frozenset[DataCategory]

    def applies(self, *, instrument: InstrumentCode, issuer: IssuerKind, group: str) -> bool:
        return all(
            (
                not self.instruments or instrument in self.instruments,
                not self.issuers or issuer in self.issuers,
                not self.groups or group in self.groups,
            )
        )


@dataclass(frozen=True)
class TierRule:
    tier: int
    rule: Rule
    extra_reviews: int
    withhold: frozenset[DataCategory]
    except_instruments: frozenset[InstrumentCode]


@dataclass(frozen=True)
class Policy:
    version: str
    sha256: str
    title: str
    effective: str
    text: str
    rules: dict[str, Rule]  # by section name: checks, jurisdiction, competence, ...
    gates: tuple[Gate, ...]
    double_criminality_exempt: frozenset[InstrumentCode]
    emergency_minimal: frozenset[DataCategory]
    max_period_days: dict[DataCategory, int]
    max_targets: int
    tiers: dict[int, TierRule]
    approvals: int
    link_hours: int
    emergency_notice_delay_days: int

    def rule(self, name: str) -> Rule:
        return self.rules[name]

    def tier(self, tier: int) -> TierRule:
        """The rule of `tier`, or of the lowest tier the file knows for one below it."""
        return self.tiers.get(tier) or self.tiers[max(self.tiers)]


def _rule(raw: dict[str, Any], where: str) -> Rule:
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise InvalidInput(f"The policy's [{where}] needs an id and a text.")
    return Rule(raw["id"], raw["text"].strip())


def _categories(values: list[str], where: str) -> frozenset[DataCategory]:
    try:
        return frozenset(DataCategory(v) for v in values)
    except ValueError:
        raise InvalidInput(f"[{where}] names an unknown data category in {values}; known: {', '.join(DataCategory)}.") from None


def _instruments(values: list[str], where: str) -> frozenset[InstrumentCode]:
    try:
        return frozenset(InstrumentCode(v) for v in values)
    except ValueError:
        raise InvalidInput(f"[{where}] names an unknown instrument in {values}.") from None


def _gate(raw: dict[str, Any]) -> Gate:
    where = f"gates {raw.get('id', '?')}"
    try:
        issuers = frozenset(IssuerKind(v) for v in raw.get("issuers", []))
    except ValueError:
        raise InvalidInput(f"[{where}] names an unknown issuer kind.") from None
    return Gate(
        _rule(raw, where),
        _instruments(raw.get("instruments", []), where),
        issuers,
        frozenset(raw.get("groups", [])),
        _categories(raw["categories"], where),
    )


def _tier(raw: dict[str, Any]) -> TierRule:
    where = f"tiers {raw.get('tier', '?')}"
    return TierRule(
        int(raw["tier"]),
        _rule(raw, where),
        int(raw.get("extra_reviews", 0)),
        _categories(raw.get("withhold", []), where),
        _instruments(raw.get("except_instruments", []), where),
    )


def _check_bar_only_rises(tiers: dict[int, TierRule]) -> None:
    """Each weaker tier must ask at least what the stronger one asks."""
    ordered = [tiers[t] for t in sorted(tiers)]
    for stronger, weaker in zip(ordered, ordered[1:], strict=False):
        if weaker.extra_reviews < stronger.extra_reviews:
            raise InvalidInput(
                f"Tier {weaker.tier} would get fewer reviews than tier {stronger.tier}: a weaker tier never gets a lower bar."
            )
        if not stronger.withhold <= weaker.withhold:
            raise InvalidInput(
                f"Tier {weaker.tier} would release categories that tier {stronger.tier} withholds: a weaker tier never gets a lower bar."
            )
        if stronger.withhold and not weaker.except_instruments <= stronger.except_instruments:
            raise InvalidInput(
                f"Tier {weaker.tier} would allow more exceptions than tier {stronger.tier}: a weaker tier never gets a lower bar."
            )


SECTIONS = (
    "checks",
    "jurisdiction",
    "competence",
    "double_criminality",
    "protected_expression",
    "preservation",
    "emergency",
    "enforcing_state",
    "not_held",
    "narrowing",
    "four_eyes",
    "delivery",
    "user_notice",
    "language",
    "orders_to_act",
    "unclassified",
)


def _named_rules(raw: dict[str, Any]) -> dict[str, Rule]:
    missing = [s for s in SECTIONS if s not in raw]
    if missing:
        raise InvalidInput(f"The policy lacks the section(s) {', '.join(missing)}.")
    rules = {s: _rule(raw[s], s) for s in SECTIONS}
    rules["checks.manifest"] = _rule(raw["checks"]["manifest"], "checks.manifest")
    rules["emergency.callback"] = _rule(raw["emergency"]["callback"], "emergency.callback")
    rules["not_held.targets"] = _rule(raw["not_held"]["targets"], "not_held.targets")
    rules["narrowing.targets"] = _rule(raw["narrowing"]["targets"], "narrowing.targets")
    for sub in ("gag", "challenge", "not_found"):
        rules[f"orders_to_act.{sub}"] = _rule(raw["orders_to_act"][sub], f"orders_to_act.{sub}")
    return rules


def _check_unique_ids(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise InvalidInput(f"The rule id {rule.id} is used twice; every reason must point at one rule.")
        seen.add(rule.id)


def parse_policy(text: str) -> Policy:
    """Parse and validate a policy file's text; InvalidInput says what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"The policy is not valid TOML: {exc}.") from None
    try:
        return _build(raw, text)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"The policy is not well formed: {exc!r}.") from None


def _build(raw: dict[str, Any], text: str) -> Policy:
    rules = _named_rules(raw)
    gates = tuple(_gate(g) for g in raw.get("gates", []))
    tiers = {t.tier: t for t in (_tier(x) for x in raw["tiers"])}
    if not tiers:
        raise InvalidInput("The policy needs at least one [[tiers]] rule.")
    _check_bar_only_rises(tiers)
    _check_unique_ids([*rules.values(), *(g.rule for g in gates), *(t.rule for t in tiers.values())])
    periods = {DataCategory(k): int(v) for k, v in raw["narrowing"]["max_period_days"].items()}
    return Policy(
        version=str(raw["version"]),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        title=raw.get("title", ""),
        effective=str(raw.get("effective", "")),
        text=text,
        rules=rules,
        gates=gates,
        double_criminality_exempt=_instruments(raw["double_criminality"].get("exempt_instruments", []), "double_criminality"),
        emergency_minimal=_categories(raw["emergency"]["minimal"], "emergency"),
        max_period_days=periods,
        max_targets=int(raw["narrowing"]["targets"]["max_targets"]),
        tiers=tiers,
        approvals=max(2, int(raw["four_eyes"]["approvals"])),
        link_hours=int(raw["delivery"]["link_hours"]),
        emergency_notice_delay_days=int(raw["user_notice"]["emergency_delay_days"]),
    )


@cache
def load_policy(path: Path = POLICY) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"))
