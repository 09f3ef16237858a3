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

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.legal.instruments import Action, Direction, UserNotice, load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestTarget, RequestTransition
from trustdesk.legal.targets import TargetKind
from trustdesk.legal.workflow import RequestState
from trustdesk.transparency.reports.figures import hours_between, median_hours, share
from trustdesk.transparency.reports.periods import Period

ALL = "ALL"
ACCOUNT_KINDS = frozenset({TargetKind.ACCOUNT_ID, TargetKind.USERNAME, TargetKind.PHONE})
ANSWERS = frozenset({RequestState.ANSWERED, RequestState.PARTLY_ANSWERED, RequestState.REFUSED})
SOURCE_NOTE = (
    "Computed from the request records: valid = checked and verified by staff; clarified = sent back to the authority "
    "for clarification; narrowed = answered only in part; refused = refused with an Annex III reason; data produced = "
    "an order to produce data answered in full or in part; non-disclosure = the instrument suspends notice to the user; "
    "time to answer = from receipt to the first answer or refusal."
)


@dataclass(frozen=True)
class RequestFacts:
    """What the report needs to know about one request."""

    country: str
    instrument: str
    accounts: int
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
        accounts=sum(f.accounts for f in facts), valid=sum(f.valid for f in facts), clarified=sum(f.clarified for f in facts),
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
    rows = session.execute(query).all()
    ids = [request.id for request, _ in rows]
    transitions = _transitions(session, ids)
    targets = _targets(session, ids)
    catalogue = load_catalogue()
    facts = []
    for request, country in rows:
        instrument = catalogue.get(request.instrument)
        if instrument.direction is Direction.INCOMING:
            facts.append(_facts(request, country, instrument.action, instrument.user_notice, transitions.get(request.id, []), targets.get(request.id, [])))
    return facts


def _transitions(session: Session, ids: list[int]) -> dict[int, list[RequestTransition]]:
    found: dict[int, list[RequestTransition]] = {}
    query = select(RequestTransition).where(RequestTransition.request_id.in_(ids)).order_by(RequestTransition.at, RequestTransition.id)
    for row in session.scalars(query) if ids else []:
        found.setdefault(row.request_id, []).append(row)
    return found


def _targets(session: Session, ids: list[int]) -> dict[int, list[RequestTarget]]:
    found: dict[int, list[RequestTarget]] = {}
    for row in session.scalars(select(RequestTarget).where(RequestTarget.request_id.in_(ids))) if ids else []:
        found.setdefault(row.request_id, []).append(row)
    return found


def _accounts(targets: list[RequestTarget]) -> int:
    """Distinct accounts a request names: by the platform's id where the target resolved,
    otherwise by the identifier as the authority wrote it."""
    named = {t.account_id or f"{t.kind}:{t.normalised}" for t in targets if t.account_id or t.kind in ACCOUNT_KINDS}
    return len(named)


def _facts(request: LawfulRequest, country: str, action: Action, notice: UserNotice,
           transitions: list[RequestTransition], targets: list[RequestTarget]) -> RequestFacts:
    reached = {RequestState(t.to_state) for t in transitions}
    answered = next((t.at for t in transitions if t.to_state in ANSWERS), None)
    return RequestFacts(
        country=country.upper(), instrument=request.instrument, accounts=_accounts(targets),
        valid=RequestState.VERIFIED in reached, clarified=RequestState.CLARIFICATION_REQUESTED in reached,
        narrowed=RequestState.PARTLY_ANSWERED in reached, refused=RequestState.REFUSED in reached,
        produced=action is Action.PRODUCE and bool(reached & {RequestState.ANSWERED, RequestState.PARTLY_ANSWERED}),
        emergency=request.emergency, non_disclosure=notice is UserNotice.SUSPENDED,
        hours_to_answer=hours_between(request.received_at, answered),
    )
