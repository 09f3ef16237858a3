"""Every ground, each on its own: the engine weighs all of them on every order and records
each with its verdict, so the record says not only what decided the order but what else
held or was clear (a protected-expression refusal that also lacked its grounds, a gag from
an issuer without competence...).

Pure, like the engine: each evaluator reads the facts, the policy and the profiles and
returns one `Ground`. The engine decides from the most final ground that holds; this module
never decides, it only records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from trustdesk.legal.instruments import Action
from trustdesk.legal.policy import double_criminality as dc_
from trustdesk.legal.policy.jurisdictions import CountryProfile, Jurisdictions, OffenceKind
from trustdesk.legal.policy.rules import Policy
from trustdesk.legal.policy.statutes import Classification
from trustdesk.platform.port import DataCategory

if TYPE_CHECKING:
    from trustdesk.legal.policy.engine import RequestFacts

NARRATIVE_ELEMENTS = ("grounds", "reasons", "emergency_facts")


class GroundName(StrEnum):
    LANGUAGE = "language"
    PROTECTED_EXPRESSION = "protected_expression"
    JURISDICTION = "jurisdiction"
    DOUBLE_CRIMINALITY = "double_criminality"
    COMPLETENESS = "completeness"
    COMPETENCE = "competence"
    NECESSITY = "necessity"
    TARGETS = "targets"
    DATA_HELD = "data_held"
    RULE_OF_LAW = "rule_of_law"


class GroundVerdict(StrEnum):
    HOLDS = "holds"  # a ground against complying, in full
    IN_PART = "in_part"  # holds for some categories, targets or part of the period
    CLEAR = "clear"
    NOT_APPLICABLE = "not_applicable"  # the ground is not one this instrument lets us weigh
    NOT_ASSESSED = "not_assessed"  # the facts to weigh it were not available


@dataclass(frozen=True)
class Ground:
    name: GroundName
    verdict: GroundVerdict
    detail: str
    rule_id: str = ""
    internal: bool = False  # deliberation the issuer never sees (the rule-of-law tier)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ground": self.name.value,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "rule_id": self.rule_id,
            "internal": self.internal,
        }


@dataclass(frozen=True)
class Context:
    facts: RequestFacts
    policy: Policy
    profile: CountryProfile
    jurisdictions: Jurisdictions
    double_criminality: dc_.DoubleCriminality
    offence: Classification  # the order's offence classes, by citation, words and instrument (statutes.classify)


def _g(name: GroundName, verdict: GroundVerdict, detail: str, rule_id: str = "", internal: bool = False) -> Ground:
    return Ground(name, verdict, detail, rule_id, internal)


def language(c: Context) -> Ground:
    if c.facts.language_accepted:
        return _g(GroundName.LANGUAGE, GroundVerdict.CLEAR, f"readable: {c.facts.language}")
    detail = f"the order is in {c.facts.language}, not a language the provider accepts; its core elements must be supplied in one"
    return _g(GroundName.LANGUAGE, GroundVerdict.HOLDS, detail, c.policy.rule("language").id)


def protected_expression(c: Context) -> Ground:
    hits = c.offence.of_kind(OffenceKind.PROTECTED_EXPRESSION)
    if not hits:
        return _g(GroundName.PROTECTED_EXPRESSION, GroundVerdict.CLEAR, "the stated offence names no protected expression")
    detail = f"the stated offence reads as: {'; '.join(f.describe() for f in hits)}"
    return _g(GroundName.PROTECTED_EXPRESSION, GroundVerdict.HOLDS, detail, c.policy.rule("protected_expression").id)


def jurisdiction(c: Context) -> Ground:
    if c.facts.instrument.code in c.profile.instruments:
        return _g(GroundName.JURISDICTION, GroundVerdict.CLEAR, f"{c.profile.name} may use a {c.facts.instrument.name}")
    detail = f"{c.profile.name} cannot issue a {c.facts.instrument.name} to the provider"
    return _g(GroundName.JURISDICTION, GroundVerdict.HOLDS, detail, c.policy.rule("jurisdiction").id)


def double_criminality_hits(c: Context) -> list[str]:
    """Labels of the conduct no crime at home, from the double-criminality data file and the
    profiles' own list, once each."""
    found = {o.code: o.label for o in c.double_criminality.conduct_in(c.facts.offence)}
    for f in c.offence.of_kind(OffenceKind.NOT_A_CRIME_AT_HOME):
        found.setdefault(f.offence.code, f.describe())
    return list(found.values())


def double_criminality_exempt(c: Context) -> str | None:
    """Why double criminality is not weighed on this order, or None where it is."""
    code = c.facts.instrument.code
    exemption = c.double_criminality.exemption(code)
    if exemption is not None:
        return exemption.reason
    if code in c.policy.double_criminality_exempt:
        return f"the policy exempts the {c.facts.instrument.name} ({c.policy.rule('double_criminality').id})"
    return None


def double_criminality(c: Context) -> Ground:
    exempt = double_criminality_exempt(c)
    if exempt is not None:
        return _g(GroundName.DOUBLE_CRIMINALITY, GroundVerdict.NOT_APPLICABLE, exempt)
    hits = double_criminality_hits(c)
    if not hits:
        return _g(GroundName.DOUBLE_CRIMINALITY, GroundVerdict.CLEAR, "no listed conduct that is lawful at home")
    detail = f"not an offence in {c.double_criminality.home}: {'; '.join(hits)}"
    return _g(GroundName.DOUBLE_CRIMINALITY, GroundVerdict.HOLDS, detail, c.policy.rule("double_criminality").id)


def completeness(c: Context) -> Ground:
    f = c.facts
    if f.manifest_errors:
        return _g(GroundName.COMPLETENESS, GroundVerdict.HOLDS, "; ".join(f.manifest_errors), c.policy.rule("checks.manifest").id)
    if f.missing_elements:
        return _g(
            GroundName.COMPLETENESS, GroundVerdict.HOLDS, f"missing: {', '.join(f.missing_elements)}", c.policy.rule("checks").id
        )
    return _g(GroundName.COMPLETENESS, GroundVerdict.CLEAR, "every required element is given")


def competence(c: Context) -> Ground:
    f, rule = c.facts, c.policy.rule("competence").id
    if not f.categories or f.acts:  # an order to act: who may issue it at all
        if f.issuer in f.instrument.issued_by:
            return _g(GroundName.COMPETENCE, GroundVerdict.CLEAR, f"a {f.issuer.value} may issue a {f.instrument.name}")
        return _g(GroundName.COMPETENCE, GroundVerdict.HOLDS, f"a {f.issuer.value} may not issue a {f.instrument.name}", rule)
    barred = sorted(cat.value for cat in f.categories if not f.instrument.may_issue(f.issuer, cat))
    if not barred:
        return _g(GroundName.COMPETENCE, GroundVerdict.CLEAR, f"a {f.issuer.value} may order every category asked")
    verdict = GroundVerdict.HOLDS if len(barred) == len(f.categories) else GroundVerdict.IN_PART
    return _g(GroundName.COMPETENCE, verdict, f"a {f.issuer.value} may not order {', '.join(barred)}", rule)


def necessity(c: Context) -> Ground:
    """Necessity and proportionality as far as a machine can weigh them: the order states
    why (its grounds or reasons), names few enough targets, and a period the policy allows."""
    f = c.facts
    unstated = [e for e in f.missing_elements if e in NARRATIVE_ELEMENTS]
    if unstated:
        return _g(GroundName.NECESSITY, GroundVerdict.HOLDS, f"no statement of {', '.join(unstated)}", c.policy.rule("checks").id)
    if len(f.targets) > c.policy.max_targets:
        detail = f"{len(f.targets)} targets; at most {c.policy.max_targets} per request"
        return _g(GroundName.NECESSITY, GroundVerdict.HOLDS, detail, c.policy.rule("narrowing.targets").id)
    limits = [c.policy.max_period_days[cat] for cat in f.categories if cat in c.policy.max_period_days]
    if f.period_start and f.period_end and limits and f.period_end - f.period_start > timedelta(days=min(limits)):
        detail = f"{(f.period_end - f.period_start).days} days asked; the policy allows {min(limits)}"
        return _g(GroundName.NECESSITY, GroundVerdict.IN_PART, detail, c.policy.rule("narrowing").id)
    return _g(GroundName.NECESSITY, GroundVerdict.CLEAR, "reasons stated; targets and period within the policy")


def targets(c: Context) -> Ground:
    found = [t for t in c.facts.targets if t.account_id is not None]
    rule = c.policy.rule("not_held.targets").id
    if not c.facts.targets or not found:
        return _g(GroundName.TARGETS, GroundVerdict.HOLDS, "no target was found on the platform", rule)
    if len(found) < len(c.facts.targets):
        missing = ", ".join(t.label for t in c.facts.targets if t.account_id is None)
        return _g(GroundName.TARGETS, GroundVerdict.IN_PART, f"not found: {missing}", rule)
    return _g(GroundName.TARGETS, GroundVerdict.CLEAR, f"{len(found)} target(s) found")


def data_held(c: Context) -> Ground:
    f = c.facts
    if f.instrument.action is not Action.PRODUCE or not f.categories:
        return _g(GroundName.DATA_HELD, GroundVerdict.NOT_APPLICABLE, "the order asks for no data to be produced")
    known = [t for t in f.targets if t.account_id is not None and t.held is not None]
    if not known:
        return _g(GroundName.DATA_HELD, GroundVerdict.NOT_ASSESSED, "the platform was not asked")
    held: set[DataCategory] = set().union(*(t.held or frozenset() for t in known))
    absent = sorted(cat.value for cat in f.categories - held)
    rule = c.policy.rule("not_held").id
    if not absent:
        return _g(GroundName.DATA_HELD, GroundVerdict.CLEAR, "every category asked is held")
    verdict = GroundVerdict.HOLDS if len(absent) == len(f.categories) else GroundVerdict.IN_PART
    return _g(GroundName.DATA_HELD, verdict, f"not held: {', '.join(absent)}", rule)


def rule_of_law(c: Context) -> Ground:
    tier = c.policy.tier(c.profile.tier)
    detail = f"{c.profile.name}: tier {c.profile.tier} ({c.profile.tier_label}); {tier.extra_reviews} extra review(s)"
    withheld = sorted(cat.value for cat in c.facts.categories & tier.withhold)
    if withheld and c.facts.instrument.code not in tier.except_instruments:
        return _g(GroundName.RULE_OF_LAW, GroundVerdict.IN_PART, f"{detail}; withholds {', '.join(withheld)}", tier.rule.id, True)
    return _g(GroundName.RULE_OF_LAW, GroundVerdict.CLEAR, detail, tier.rule.id, True)


EVALUATORS = (
    language,
    protected_expression,
    jurisdiction,
    double_criminality,
    completeness,
    competence,
    necessity,
    targets,
    data_held,
    rule_of_law,
)


def evaluate(c: Context) -> tuple[Ground, ...]:
    """Every ground, in the order the engine weighs them; none is skipped for another."""
    return tuple(evaluate_one(c) for evaluate_one in EVALUATORS)


def holding(grounds: tuple[Ground, ...], name: GroundName) -> Ground | None:
    found = next((g for g in grounds if g.name is name), None)
    return found if found is not None and found.verdict in (GroundVerdict.HOLDS, GroundVerdict.IN_PART) else None
