"""The government-request report: per country of the issuing authority and per period, the
requests received by instrument, the accounts they specified, and what became of them.

The figures are computed in two steps so that they can be checked: `gather` reads one
`RequestFacts` per request received in the period (a plain record, no database), and
`aggregate` counts them. Totals are the same count over all requests, never a sum of
rounded per-country figures, and the tests check that the per-country counts add up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.legal.checks import Verdict
from trustdesk.legal.disclosure.models import Disclosure, DisclosurePackage, UserNotice
from trustdesk.legal.instruments import Direction, InstrumentCode, load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestTarget, RequestTransition
from trustdesk.legal.policy.models import PolicyDecision
from trustdesk.legal.targets import TargetKind
from trustdesk.legal.workflow import RequestState
from trustdesk.transparency.reports.figures import hours_between, median_hours, share
from trustdesk.transparency.reports.periods import Period

ALL = "ALL"
ACCOUNT_KINDS = frozenset({TargetKind.ACCOUNT_ID, TargetKind.USERNAME, TargetKind.PHONE})
ANSWERS = frozenset({RequestState.ANSWERED, RequestState.PARTLY_ANSWERED, RequestState.REFUSED})
# The definitions of the lawful-request domain's own numbers (trustdesk.legal.disclosure.numbers),
# read per request so that the report can also count by instrument and give a total row; the
# tests check that both agree country by country.
SOURCE_NOTE = (
    "Valid = every check of the instrument passed at intake; clarified = sent back to the authority for clarification at "
    "least once; narrowed = the policy decision produced less than was asked; refused = refused at any point, with an "
    "Annex III reason; some data produced = a signed package was delivered to the requesting officer; accounts specified = "
    "distinct accounts the request named; accounts affected = distinct accounts in delivered packages; non-disclosure = the "
    "user's notice was held back (a non-disclosure order, the issuer's confidentiality, an emergency delay) or the request is "
    "itself a non-disclosure order; time to answer = from receipt to the first answer or refusal."
)


@dataclass(frozen=True)
class RequestFacts:
    """What the report needs to know about one request."""

    country: str
    instrument: str
    accounts: int
    affected: frozenset[str]
    valid: bool
    clarified: bool
    narrowed: bool
    refused: bool
    produced: bool
    emergency: bool
    non_disclosure: bool
    hours_to_answer: float | None


@dataclass(frozen=True)
class CountryFigures:
    country: str
    received: int
    by_instrument: dict[str, int]
    accounts: int
    accounts_affected: int
    valid: int
    clarified: int
    narrowed: int
    refused: int
    produced: int
    emergency: int
    non_disclosure: int
    median_hours_to_answer: Decimal | None

    @property
    def name(self) -> str:
        return country_name(self.country)

    @property
    def produced_share(self) -> Decimal | None:
        return share(self.produced, self.received)

    @property
    def refused_share(self) -> Decimal | None:
        return share(self.refused, self.received)

    @property
    def narrowed_share(self) -> Decimal | None:
        return share(self.narrowed, self.received)

    @property
    def emergency_share(self) -> Decimal | None:
        return share(self.emergency, self.received)

    @property
    def non_disclosure_share(self) -> Decimal | None:
        return share(self.non_disclosure, self.received)


@dataclass(frozen=True)
class GovernmentReport:
    period: Period
    generated_at: datetime
    countries: list[CountryFigures]
    total: CountryFigures
    instruments: dict[str, str]  # code -> name, in catalogue order, only those received
    source: str = SOURCE_NOTE
    notes: list[str] = field(default_factory=list)


def country_name(code: str) -> str:
    if code == ALL:
        return "All countries"
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country is not None else code


def aggregate(country: str, facts: Sequence[RequestFacts]) -> CountryFigures:
    """Count one country's requests (or all of them, as `ALL`)."""
    return CountryFigures(
        country=country, received=len(facts), by_instrument=dict(Counter(f.instrument for f in facts)),
        accounts=sum(f.accounts for f in facts), accounts_affected=len(frozenset().union(*(f.affected for f in facts))), valid=sum(f.valid for f in facts), clarified=sum(f.clarified for f in facts),
        narrowed=sum(f.narrowed for f in facts), refused=sum(f.refused for f in facts), produced=sum(f.produced for f in facts),
        emergency=sum(f.emergency for f in facts), non_disclosure=sum(f.non_disclosure for f in facts),
        median_hours_to_answer=median_hours(f.hours_to_answer for f in facts),
    )


def by_country(facts: Iterable[RequestFacts]) -> list[CountryFigures]:
    """One row per country, the most requests first, then by name."""
    groups: dict[str, list[RequestFacts]] = {}
    for fact in facts:
        groups.setdefault(fact.country, []).append(fact)
    rows = [aggregate(code, group) for code, group in groups.items()]
    return sorted(rows, key=lambda row: (-row.received, row.name))


def build(session: Session, *, period: Period, now: datetime) -> GovernmentReport:
    facts = gather(session, period=period)
    order = [str(code) for code in load_catalogue().instruments]
    received = {f.instrument for f in facts}
    names = {code: load_catalogue().get(code).name for code in order if code in received}
    return GovernmentReport(period=period, generated_at=now, countries=by_country(facts), total=aggregate(ALL, facts), instruments=names)


def gather(session: Session, *, period: Period) -> list[RequestFacts]:
    """One `RequestFacts` per request received from an authority within the period."""
    query = (
        select(LawfulRequest, Agency.country).join(Agency, Agency.id == LawfulRequest.agency_id)
        .where(LawfulRequest.received_at >= period.start, LawfulRequest.received_at < period.end)
        .order_by(LawfulRequest.id)
    )
    rows = [(r, c) for r, c in session.execute(query).all() if load_catalogue().get(r.instrument).direction is Direction.INCOMING]
    ids = [request.id for request, _ in rows]
    related = {m: _by_request(session, m, ids) for m in (RequestTransition, RequestTarget, PolicyDecision, Disclosure, DisclosurePackage, UserNotice)}
    return [_facts(request, country, {m: related[m].get(request.id, []) for m in related}) for request, country in rows]


def _by_request(session: Session, model: Any, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in session.scalars(select(model).where(model.request_id.in_(ids)).order_by(model.id)) if ids else []:
        found.setdefault(row.request_id, []).append(row)
    return found


def _accounts(targets: list[RequestTarget]) -> int:
    """Distinct accounts a request names: by the platform's id where the target resolved,
    otherwise by the identifier as the authority wrote it."""
    named = {t.account_id or f"{t.kind}:{t.normalised}" for t in targets if t.account_id or t.kind in ACCOUNT_KINDS}
    return len(named)


def _facts(request: LawfulRequest, country: str, rel: dict[Any, list[Any]]) -> RequestFacts:
    transitions = sorted(rel[RequestTransition], key=lambda t: (t.at, t.id))
    reached = {t.to_state for t in transitions}
    answered = next((t.at for t in transitions if t.to_state in ANSWERS), None)
    packaged = {p.disclosure_id for p in rel[DisclosurePackage]}
    held_back = any(u.state == "withheld" or (u.not_before and u.not_before > u.created_at) for u in rel[UserNotice])
    return RequestFacts(
        country=country.upper(), instrument=request.instrument, accounts=_accounts(rel[RequestTarget]),
        affected=frozenset(a for d in rel[Disclosure] if d.id in packaged for a in d.accounts),
        valid=request.verdict == Verdict.PASS, clarified=RequestState.CLARIFICATION_REQUESTED in reached,
        narrowed=any(d.narrowed or d.outcome == "produce_in_part" for d in rel[PolicyDecision]), refused=RequestState.REFUSED in reached,
        produced=bool(packaged), emergency=request.emergency,
        non_disclosure=held_back or request.instrument == InstrumentCode.US_2705B_NDO,
        hours_to_answer=hours_between(request.received_at, answered),
    )
