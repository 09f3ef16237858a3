"""The policy engine: from a checked request's facts, a proposed decision with its reasons.

Pure: it reads the facts, the policy and the country profiles, and nothing else; the same
inputs always give the same proposal, which is what makes a dry-run of a draft policy over
past requests meaningful. Every reason names the rule of the policy file it applies.

The steps run from the most final to the least: a request that targets protected
expression is refused before anything else is weighed; one that lacks elements goes back
for clarification; only then are categories gated, narrowed and checked against what the
platform holds.

Every ground is weighed and recorded on its own (`grounds.py`), whichever decides. Orders to
act rather than to disclose (a removal order, a non-disclosure order, a court's order of
confidentiality) have outcomes of their own: comply, comply in part, challenge, clarify.
Each reason carries the words meant for the issuer, apart from the deliberation behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from trustdesk.legal.instruments import Action, Instrument, IssuerKind, RefusalReason
from trustdesk.legal.policy import double_criminality as dc_
from trustdesk.legal.policy import grounds as grounds_
from trustdesk.legal.policy import statutes
from trustdesk.legal.policy.grounds import Ground, GroundName
from trustdesk.legal.policy.jurisdictions import CountryProfile, Jurisdictions, OffenceKind
from trustdesk.legal.policy.rules import Policy, Rule
from trustdesk.legal.policy.statutes import Classification, Library
from trustdesk.platform.port import DataCategory

TIME_BOUND = frozenset({DataCategory.IDENTIFICATION, DataCategory.TRAFFIC, DataCategory.CONTENT})
ORDERED = tuple(DataCategory)


class Outcome(StrEnum):
    PRODUCE = "produce"
    PRODUCE_IN_PART = "produce_in_part"
    PRESERVE_ONLY = "preserve_only"
    REFUSE = "refuse"
    CLARIFY = "clarify"
    # Orders to act (remove, keep a user uninformed): carried out, in part, or challenged.
    COMPLY = "comply"
    COMPLY_IN_PART = "comply_in_part"
    CHALLENGE = "challenge"


ANSWERED_WITH_REASON = frozenset({Outcome.REFUSE, Outcome.CLARIFY, Outcome.CHALLENGE})
ACTING = frozenset({Outcome.COMPLY, Outcome.COMPLY_IN_PART})


@dataclass(frozen=True)
class TargetFacts:
    """One target as the checks resolved it; `held` is what the platform holds for it in the
    period asked (None where it was not looked up)."""

    label: str
    account_id: str | None
    held: frozenset[DataCategory] | None = None


@dataclass(frozen=True)
class RequestFacts:
    reference: str
    instrument: Instrument
    issuer: IssuerKind
    country: str
    categories: frozenset[DataCategory]
    emergency: bool
    offence: str
    missing_elements: tuple[str, ...]
    manifest_errors: tuple[str, ...]
    targets: tuple[TargetFacts, ...]
    period_start: datetime | None = None
    period_end: datetime | None = None
    not_before: datetime | None = None
    callback_pending: bool = False
    language: str = "en"
    language_accepted: bool = True
    # A gag the order carries: a 2705(b) order's end date, a court's confidentiality period.
    confidentiality_until: datetime | None = None

    @property
    def gag(self) -> bool:
        return self.instrument.action is Action.SUSPEND_NOTICE or (
            self.confidentiality_until is not None and not self.categories and self.instrument.action is Action.PRODUCE
        )

    @property
    def acts(self) -> bool:
        """An order to act, not to disclose."""
        return self.instrument.action is Action.REMOVE or self.gag


@dataclass(frozen=True)
class Reason:
    rule_id: str
    text: str
    detail: str = ""
    refusal_reason: RefusalReason | None = None
    # What the issuer is told of this reason; empty: internal deliberation only.
    for_issuer: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "rule_id": self.rule_id,
            "text": self.text,
            "detail": self.detail,
            "refusal_reason": self.refusal_reason and self.refusal_reason.value,
            "for_issuer": self.for_issuer,
        }


@dataclass(frozen=True)
class Proposal:
    outcome: Outcome
    categories: frozenset[DataCategory]
    widenable: frozenset[DataCategory]
    accounts: tuple[str, ...]
    period_start: datetime | None
    period_end: datetime | None
    reasons: tuple[Reason, ...]
    refusal_reason: RefusalReason | None = None
    extra_reviews: int = 0
    callback_required: bool = False
    not_before: datetime | None = None
    narrowed: bool = False
    not_held: tuple[tuple[str, str], ...] = ()  # (account or target, category)
    grounds: tuple[Ground, ...] = ()

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.rule_id for r in self.reasons))


@dataclass
class _Work:
    """The proposal while the steps build it."""

    facts: RequestFacts
    policy: Policy
    profile: CountryProfile
    jurisdictions: Jurisdictions
    allowed: set[DataCategory]
    accounts: list[str]
    offence: Classification
    reasons: list[Reason] = field(default_factory=list)
    widenable: set[DataCategory] = field(default_factory=set)
    not_held: list[tuple[str, str]] = field(default_factory=list)
    final: Outcome | None = None
    refusal: RefusalReason | None = None
    extra_reviews: int = 0
    period: tuple[datetime | None, datetime | None] = (None, None)
    narrowed: bool = False
    grounds: tuple[Ground, ...] = ()

    def cite(self, rule: Rule, detail: str = "", refusal: RefusalReason | None = None, issuer: str | None = None) -> None:
        """Record a reason; `issuer` is what the issuer is told (default: the detail, since
        most details are the answer itself; '' keeps the reason internal)."""
        self.reasons.append(Reason(rule.id, rule.text, detail, refusal, detail if issuer is None else issuer))

    def stop(
        self, outcome: Outcome, rule: Rule, detail: str, refusal: RefusalReason | None = None, issuer: str | None = None
    ) -> None:
        self.cite(rule, detail, refusal, issuer)
        self.final, self.refusal = outcome, refusal

    def withhold(
        self,
        categories: set[DataCategory],
        rule: Rule,
        detail: str,
        refusal: RefusalReason | None,
        issuer: str | None = None,
    ) -> None:
        taken = categories & self.allowed
        if taken:
            self.allowed -= taken
            said = f"{_names(taken)}: {detail}"
            self.cite(rule, said, refusal, said if issuer is None else f"{_names(taken)}: {issuer}")


def _names(categories: set[DataCategory] | frozenset[DataCategory]) -> str:
    return ", ".join(c.value for c in ORDERED if c in categories)


# -- the steps, most final first -------------------------------------------------------------


def _protected_expression(w: _Work) -> None:
    """Protected expression, found by the statute cited (in the issuing country's profile)
    or by the words of the order in any language of the lexicon (statutes.classify)."""
    hits = w.offence.of_kind(OffenceKind.PROTECTED_EXPRESSION)
    if hits:
        codes = {f.offence.code for f in hits}
        local = [lo.statute for lo in w.profile.local_offences if lo.offence in codes]
        detail = f"the stated offence reads as: {'; '.join(f.describe() for f in hits)}"
        detail += f" (cf. {'; '.join(local)})" if local else ""
        issuer = "rules on freedom of expression and of the press prevent compliance (immunities and privileges)"
        w.stop(Outcome.REFUSE, w.policy.rule("protected_expression"), detail, RefusalReason.IMMUNITIES, issuer)


def _jurisdiction(w: _Work) -> None:
    if w.facts.instrument.code not in w.profile.instruments:
        detail = f"{w.profile.name} ({w.profile.group.value}) cannot issue a {w.facts.instrument.name} to us"
        w.stop(Outcome.REFUSE, w.policy.rule("jurisdiction"), detail, RefusalReason.MANIFEST_ERROR)


def _double_criminality(w: _Work) -> None:
    """Weighed only where it is the provider's ground: never on EU mutual-recognition orders,
    which leave it to the enforcing state (Reg. 2023/1543 Art. 12(1)(d)); the conduct lawful
    at home is the data file's, with its sources."""
    ground = grounds_.holding(w.grounds, GroundName.DOUBLE_CRIMINALITY)
    if ground is not None:
        w.stop(Outcome.REFUSE, w.policy.rule("double_criminality"), ground.detail, RefusalReason.OTHER)


def _language(w: _Work) -> None:
    """An order the provider cannot read is not decided: its core elements come first in an
    accepted language (DSA Arts. 9(2)(c), 10(2)(c); Reg. 2023/1543 Arts. 4-5, 9)."""
    ground = grounds_.holding(w.grounds, GroundName.LANGUAGE)
    if ground is not None:
        w.stop(Outcome.CLARIFY, w.policy.rule("language"), ground.detail, RefusalReason.INCOMPLETE)


def _clarification(w: _Work) -> None:
    if w.facts.manifest_errors:
        w.stop(Outcome.REFUSE, w.policy.rule("checks.manifest"), "; ".join(w.facts.manifest_errors), RefusalReason.MANIFEST_ERROR)
    elif w.facts.missing_elements:
        w.stop(
            Outcome.CLARIFY, w.policy.rule("checks"), f"missing: {', '.join(w.facts.missing_elements)}", RefusalReason.INCOMPLETE
        )
    elif len(w.facts.targets) > w.policy.max_targets:
        detail = f"{len(w.facts.targets)} targets; at most {w.policy.max_targets} per request"
        w.stop(Outcome.CLARIFY, w.policy.rule("narrowing.targets"), detail, RefusalReason.INCOMPLETE)


def _targets(w: _Work) -> None:
    for target in w.facts.targets:
        if target.account_id is None:
            w.cite(w.policy.rule("not_held.targets"), f"target {target.label}", RefusalReason.NOT_HELD)
            w.not_held.append((target.label, "all"))
    if not w.accounts:
        w.stop(Outcome.REFUSE, w.policy.rule("not_held.targets"), "no target was found on the platform", RefusalReason.NOT_HELD)


def _catalogue_competence(w: _Work) -> None:
    facts = w.facts
    incompetent = {c for c in w.allowed if not facts.instrument.may_issue(facts.issuer, c)}
    w.withhold(
        incompetent,
        w.policy.rule("competence"),
        f"a {facts.issuer.value} may not order them under a {facts.instrument.name}",
        RefusalReason.MANIFEST_ERROR,
    )


def _competence(w: _Work) -> None:
    facts = w.facts
    _catalogue_competence(w)
    for gate in w.policy.gates:
        if gate.applies(instrument=facts.instrument.code, issuer=facts.issuer, group=w.profile.group.value):
            w.withhold(
                w.allowed - gate.categories, gate.rule, "withheld by the provider's policy", RefusalReason.OTHER, gate.rule.text
            )


def _tier(w: _Work) -> None:
    rule = w.policy.tier(w.profile.tier)
    w.extra_reviews = rule.extra_reviews
    detail = f"{w.profile.name}: rule-of-law tier {w.profile.tier} ({w.profile.tier_label}, WGI {w.profile.estimate})"
    w.cite(rule.rule, f"{detail}; {rule.extra_reviews} extra review(s)", issuer="")
    if w.facts.instrument.code not in rule.except_instruments:
        w.withhold(
            set(rule.withhold),
            rule.rule,
            "withheld for this tier",
            RefusalReason.OTHER,
            "not provided in answer to this instrument; a request by mutual legal assistance may follow",
        )


def _unclassified(w: _Work) -> None:
    """An order whose offence neither its citations, nor its words, nor its instrument name
    is never taken as benign: a person classifies it, one more review before any package."""
    if w.offence.classified:
        return
    w.extra_reviews += 1
    cited = f"; cites {', '.join(w.offence.unknown_citations)}, not mapped in the profile" if w.offence.unknown_citations else ""
    detail = f"no offence class found in the order's citations or words ({w.offence.version}){cited}; one more review"
    w.cite(w.policy.rule("unclassified"), detail)


def _emergency(w: _Work) -> None:
    if not w.facts.emergency:
        return
    extra = w.allowed - w.policy.emergency_minimal
    w.widenable |= extra
    if extra:
        w.allowed -= extra
        w.cite(
            w.policy.rule("emergency"),
            f"{_names(extra)} held back; a second legal officer may widen",
            issuer=f"{_names(extra)}: not provided in an emergency beyond the minimal set",
        )
    else:
        w.cite(w.policy.rule("emergency"), "the request stays within the minimal set", issuer="")
    w.cite(w.policy.rule("emergency.callback"), "pending" if w.facts.callback_pending else "confirmed", issuer="")


def _held(w: _Work) -> None:
    known = [t for t in w.facts.targets if t.account_id is not None and t.held is not None]
    if not known or len(known) < len(w.accounts):
        return
    for category in [c for c in ORDERED if c in w.allowed]:
        if not any(category in t.held for t in known if t.held is not None):
            w.not_held.extend((t.account_id or t.label, category.value) for t in known)
            w.withhold({category}, w.policy.rule("not_held"), "nothing readable is held for the targets", RefusalReason.NOT_HELD)


def _narrowing(w: _Work) -> None:
    start, end = w.facts.period_start, w.facts.period_end
    w.period = (start, end)
    bounded = [w.policy.max_period_days[c] for c in w.allowed & TIME_BOUND if c in w.policy.max_period_days]
    if start is None or end is None or not bounded:
        return
    limit = timedelta(days=min(bounded))
    if end - start > limit:
        w.period, w.narrowed = (end - limit, end), True
        w.cite(w.policy.rule("narrowing"), f"{(end - start).days} days asked; narrowed to the last {limit.days} days")


def _conditions(w: _Work) -> datetime | None:
    if w.facts.not_before is not None and w.allowed & {DataCategory.TRAFFIC, DataCategory.CONTENT}:
        w.cite(w.policy.rule("enforcing_state"), f"not before {w.facts.not_before.isoformat()}")
        return w.facts.not_before
    return None


STEPS_BEFORE_SCOPE = (_language, _protected_expression, _jurisdiction, _double_criminality)


def classify(facts: RequestFacts, jurisdictions: Jurisdictions, library: Library | None = None) -> Classification:
    """The offence classes of the order: citations first, then words, then the instrument."""
    return statutes.classify(
        facts.offence,
        country=facts.country,
        instrument=facts.instrument.code.value,
        offences=jurisdictions.offences,
        library=library,
    )


def propose(
    facts: RequestFacts,
    *,
    policy: Policy,
    jurisdictions: Jurisdictions,
    double_criminality: dc_.DoubleCriminality | None = None,
    library: Library | None = None,
) -> Proposal:
    """The decision the policy proposes for one checked request, with every ground weighed."""
    profile = jurisdictions.get(facts.country)
    accounts = list(dict.fromkeys(t.account_id for t in facts.targets if t.account_id))
    offence = classify(facts, jurisdictions, library)
    w = _Work(facts, policy, profile, jurisdictions, set(facts.categories), accounts, offence)
    context = grounds_.Context(facts, policy, profile, jurisdictions, double_criminality or dc_.load(), offence)
    w.grounds = grounds_.evaluate(context)
    if facts.acts:
        return _act(w)
    for step in STEPS_BEFORE_SCOPE:
        step(w)
        if w.final:
            return _finish(w, None)
    if facts.instrument.action is Action.PRESERVE:
        return _preserve(w)
    for step in (_clarification, _targets, _competence, _tier, _unclassified, _emergency, _held):
        step(w)
        if w.final:
            return _finish(w, None)
    if not w.allowed and not w.widenable:
        return _nothing_left(w)
    _narrowing(w)
    return _finish(w, _conditions(w))


def _preserve(w: _Work) -> Proposal:
    w.period = (w.facts.period_start, w.facts.period_end)
    if not w.allowed:  # a preservation order that names no category freezes what it may cover
        w.allowed = {c for c in w.facts.instrument.categories if w.facts.instrument.may_issue(w.facts.issuer, c)}
        w.cite(w.policy.rule("preservation"), "no category named: every category the issuer may order is preserved")
    _targets(w)
    _catalogue_competence(w)
    if not w.final and not w.allowed:
        return _nothing_left(w)
    if not w.final:
        w.final = Outcome.PRESERVE_ONLY
        w.cite(w.policy.rule("preservation"), f"{_names(w.allowed)} of {len(w.accounts)} account(s)")
    return _finish(w, None)


# -- orders to act: removal, non-disclosure, confidentiality ----------------------------------


def _act_rule(w: _Work) -> Rule:
    return w.policy.rule("orders_to_act.gag" if w.facts.gag else "orders_to_act")


def _act_challenge(w: _Work) -> bool:
    """Grounds on which the provider contests the order rather than carrying it out: it
    targets protected expression (a removal only: a gag discloses nothing), the state cannot
    use the instrument, or the issuer may not issue it. A challenged gag still holds the user
    notice: the notice reads gags whatever their order's state (disclosure/notice.py)."""
    pe = grounds_.holding(w.grounds, GroundName.PROTECTED_EXPRESSION)
    if pe is not None and not w.facts.gag:
        w.stop(
            Outcome.CHALLENGE,
            w.policy.rule("orders_to_act.challenge"),
            pe.detail,
            RefusalReason.IMMUNITIES,
            "the content is protected expression; the provider contests the order (DSA Art. 9; Reg. 2021/784 Art. 9)",
        )
        return True
    for name, refusal in (
        (GroundName.JURISDICTION, RefusalReason.MANIFEST_ERROR),
        (GroundName.COMPETENCE, RefusalReason.MANIFEST_ERROR),
    ):
        ground = grounds_.holding(w.grounds, name)
        if ground is not None:
            w.stop(Outcome.CHALLENGE, w.policy.rule("orders_to_act.challenge"), ground.detail, refusal)
            return True
    return False


def _act(w: _Work) -> Proposal:
    """An order to act names no data category: it is carried out, in part, challenged, or
    sent back for clarification, never refused for having 'nothing left' to disclose."""
    f = w.facts
    _language(w)
    if not w.final and not _act_challenge(w):
        _act_clarify(w)
    if not w.final:
        found = [t for t in f.targets if t.account_id is not None]
        for target in (t for t in f.targets if t.account_id is None):
            w.cite(w.policy.rule("orders_to_act.not_found"), f"target {target.label}", RefusalReason.NOT_HELD)
            w.not_held.append((target.label, "all"))
        w.final = Outcome.COMPLY if len(found) == len(f.targets) else Outcome.COMPLY_IN_PART
        w.cite(_act_rule(w), _act_detail(w, len(found)))
    return _finish(w, None)


def _act_clarify(w: _Work) -> None:
    """Manifest errors, a missing element or nothing found: ask the issuer (Reg. 2021/784
    Art. 3(8); DSA Art. 9(2)). A gag whose accounts we do not hold is still complied with."""
    f = w.facts
    if f.manifest_errors:
        w.stop(Outcome.CLARIFY, w.policy.rule("checks.manifest"), "; ".join(f.manifest_errors), RefusalReason.MANIFEST_ERROR)
    elif f.missing_elements:
        w.stop(Outcome.CLARIFY, w.policy.rule("checks"), f"missing: {', '.join(f.missing_elements)}", RefusalReason.INCOMPLETE)
    elif not f.gag and not any(t.account_id for t in f.targets):
        w.stop(
            Outcome.CLARIFY,
            w.policy.rule("orders_to_act.not_found"),
            "none of the locations named was found on the platform",
            RefusalReason.NOT_HELD,
        )


def _act_detail(w: _Work, found: int) -> str:
    f = w.facts
    if f.gag:
        until = f.confidentiality_until.date().isoformat() if f.confidentiality_until else "an end date to be given"
        return f"user notice held for {found} account(s) until {until}"
    return f"{f.instrument.name}: act on {found} of {len(f.targets)} location(s) and tell the issuer whether and when"


def _nothing_left(w: _Work) -> Proposal:
    """Every category was withheld: a refusal, for the reason that withheld the first."""
    refusals = [r.refusal_reason for r in w.reasons if r.refusal_reason is not None]
    w.final, w.refusal = Outcome.REFUSE, (refusals[0] if refusals else RefusalReason.OTHER)
    return _finish(w, None)


def _finish(w: _Work, not_before: datetime | None) -> Proposal:
    outcome = w.final
    if outcome is None:
        complete = w.allowed == set(w.facts.categories) and not w.narrowed and len(w.accounts) == len(w.facts.targets)
        outcome = Outcome.PRODUCE if complete else Outcome.PRODUCE_IN_PART
    producing = outcome in (Outcome.PRODUCE, Outcome.PRODUCE_IN_PART, Outcome.PRESERVE_ONLY, *ACTING)
    return Proposal(
        outcome=outcome,
        categories=frozenset(w.allowed) if producing else frozenset(),
        widenable=frozenset(w.widenable) if producing else frozenset(),
        accounts=tuple(w.accounts) if producing else (),
        period_start=w.period[0] if producing else None,
        period_end=w.period[1] if producing else None,
        reasons=tuple(w.reasons),
        refusal_reason=w.refusal if outcome in ANSWERED_WITH_REASON else None,
        extra_reviews=w.extra_reviews,
        callback_required=w.facts.emergency or w.facts.callback_pending,
        not_before=not_before,
        narrowed=w.narrowed,
        not_held=tuple(w.not_held),
        grounds=w.grounds,
    )
