"""Government-request numbers, per country of the issuing authority and per period: the same
counts for every country, from the same records (LEGAL.md: 'one process for every country').

This module is the only place that reads and counts them. The legal team's numbers (API, CLI)
and the published government-request report (`trustdesk.transparency.reports.government`) both
call `gather` and `count`, so the two cannot disagree; the DSA report's orders section
(`trustdesk.transparency.reports.dsa_facts`) selects its orders with `received`, the same
definition of a government request received in the period (issue #16 item 14). The legal
team's row carries every figure the report publishes, requests by instrument included.

Which requests count: every request an authority filed (an instrument of the catalogue whose
direction is incoming) received in the period, whatever became of it: refused, invalid,
withdrawn or still open. What the provider sends itself (DSA Art. 18 notifications, outgoing)
is not a government request and is never counted.

Definitions (also in docs/policy.md and docs/transparency.md): received = filed in the period;
valid = every check of the instrument passed at intake; clarified = sent back for
clarification at least once; narrowed = a decision that produced less than was asked
(categories, targets or period); refused = refused at any point; data produced = a package was
delivered; accounts specified = distinct accounts the request named; accounts affected =
distinct accounts in delivered packages; emergency share = emergency requests / received;
non-disclosure share = requests whose user notice was held back (a non-disclosure order, the
issuer's confidentiality, an emergency delay) or that are themselves non-disclosure orders,
/ received; median time to answer = receipt to the first answer or refusal, in hours to two
places, half up."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.legal.checks import Verdict
from trustdesk.legal.disclosure.models import Disclosure, DisclosurePackage, UserNotice
from trustdesk.legal.instruments import Direction, InstrumentCode, load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestState, RequestTarget, RequestTransition
from trustdesk.legal.policy.models import PolicyDecision
from trustdesk.legal.targets import TargetKind

ACCOUNT_KINDS = frozenset({TargetKind.ACCOUNT_ID, TargetKind.USERNAME, TargetKind.PHONE})
ANSWERS = frozenset({RequestState.ANSWERED, RequestState.PARTLY_ANSWERED, RequestState.REFUSED})
HOURS_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class RequestFacts:
    """What the numbers need to know about one request."""

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
class CountryCounts:
    """The counts of one country's requests (or of all of them)."""

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

    def as_dict(self) -> dict[str, object]:
        """The legal team's row (API and CLI): shares as fractions of one to four places."""

        def fraction(part: int) -> float | None:
            return round(part / self.received, 4) if self.received else None

        median = self.median_hours_to_answer
        return {
            "country": self.country,
            "received": self.received,
            "by_instrument": dict(sorted(self.by_instrument.items())),
            "accounts_specified": self.accounts,
            "valid": self.valid,
            "clarified": self.clarified,
            "narrowed": self.narrowed,
            "refused": self.refused,
            "data_produced": self.produced,
            "accounts_affected": self.accounts_affected,
            "emergency_share": fraction(self.emergency),
            "non_disclosure_share": fraction(self.non_disclosure),
            "median_hours_to_answer": None if median is None else float(median),
        }


def median_hours(values: Iterable[float | None]) -> Decimal | None:
    """The median of the known durations in hours, to two places, half up; None when none is known."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return Decimal(str(statistics.median(known))).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def count(country: str, facts: Sequence[RequestFacts]) -> CountryCounts:
    """Count one country's requests; totals are the same count over all requests, never a sum
    of per-country figures."""
    return CountryCounts(
        country=country,
        received=len(facts),
        by_instrument=dict(Counter(f.instrument for f in facts)),
        accounts=sum(f.accounts for f in facts),
        accounts_affected=len(frozenset().union(*(f.affected for f in facts))),
        valid=sum(f.valid for f in facts),
        clarified=sum(f.clarified for f in facts),
        narrowed=sum(f.narrowed for f in facts),
        refused=sum(f.refused for f in facts),
        produced=sum(f.produced for f in facts),
        emergency=sum(f.emergency for f in facts),
        non_disclosure=sum(f.non_disclosure for f in facts),
        median_hours_to_answer=median_hours(f.hours_to_answer for f in facts),
    )


def by_country(facts: Iterable[RequestFacts]) -> dict[str, list[RequestFacts]]:
    groups: dict[str, list[RequestFacts]] = {}
    for fact in facts:
        groups.setdefault(fact.country, []).append(fact)
    return groups


def government_numbers(
    session: Session, *, principal: Principal, start: datetime, end: datetime, country: str | None = None
) -> list[dict[str, object]]:
    """One row per country with requests received in [start, end), sorted by country."""
    authorize(principal, Permission.REQUESTS_READ)
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise InvalidInput("The period needs an aware start before its end.")
    groups = by_country(gather(session, start=start, end=end, country=country))
    return [count(code, groups[code]).as_dict() for code in sorted(groups)]


def provider_sent() -> frozenset[str]:
    """The instruments that are not counted: what the provider sends itself. Everything else
    counts, even a request filed under an instrument a later catalogue no longer has."""
    return frozenset(str(i.code) for i in load_catalogue().instruments.values() if i.direction is not Direction.INCOMING)


CHUNK = 2_000  # requests read per round trip: far below any driver's parameter limit (psycopg: 65,535)


def received(
    start: datetime, end: datetime, *, country: str | None = None, instruments: Iterable[str] | None = None
) -> Select[LawfulRequest, str]:
    """The one definition of the government requests received in [start, end): every request
    an authority filed (refused at intake, invalid, withdrawn or open alike), never what the
    provider sends itself; with the issuing agency's country. `instruments` narrows it (the DSA
    report's orders), never widens it."""
    query = (
        select(LawfulRequest, Agency.country)
        .join(Agency, Agency.id == LawfulRequest.agency_id)
        .where(
            LawfulRequest.received_at >= start, LawfulRequest.received_at < end, LawfulRequest.instrument.not_in(provider_sent())
        )
        .order_by(LawfulRequest.id)
    )
    if instruments is not None:
        query = query.where(LawfulRequest.instrument.in_(sorted(instruments)))
    if country is not None:
        query = query.where(Agency.country == country.upper())
    return query


def gather(
    session: Session, *, start: datetime, end: datetime, country: str | None = None, chunk: int = CHUNK
) -> list[RequestFacts]:
    """One `RequestFacts` per government request received in [start, end), in filing order."""
    return list(iter_facts(session, start=start, end=end, country=country, chunk=chunk))


def iter_facts(
    session: Session, *, start: datetime, end: datetime, country: str | None = None, chunk: int = CHUNK
) -> Iterator[RequestFacts]:
    """`gather`, a chunk of requests at a time (keyset by id), each chunk's related rows read
    with one query per table bounded by the chunk's ids: the ORM rows held are a chunk's
    (the session's identity map keeps clean rows only while they are referenced), and no statement carries one parameter per request of the
    period (at 100,000 requests that passed psycopg's 65,535 limit, issue #19)."""
    query = received(start, end, country=country).limit(chunk)
    after = 0
    while True:
        rows = session.execute(query.where(LawfulRequest.id > after)).all()
        if not rows:
            return
        ids = [request.id for request, _ in rows]
        related = {
            m: _by_request(session, m, ids)
            for m in (RequestTransition, RequestTarget, PolicyDecision, Disclosure, DisclosurePackage, UserNotice)
        }
        for request, code in rows:
            yield _facts(request, code, {m: related[m].get(request.id, []) for m in related})
        after = ids[-1]


def _by_request(session: Session, model: Any, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in session.scalars(select(model).where(model.request_id.in_(ids)).order_by(model.id)) if ids else []:
        found.setdefault(row.request_id, []).append(row)
    return found


def _accounts(targets: list[RequestTarget]) -> int:
    """Distinct accounts a request names: by the platform's id where the target resolved,
    otherwise by the identifier as the authority wrote it."""
    return len({t.account_id or f"{t.kind}:{t.normalised}" for t in targets if t.account_id or t.kind in ACCOUNT_KINDS})


def _hours_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _facts(request: LawfulRequest, country: str, rel: dict[Any, list[Any]]) -> RequestFacts:
    transitions = sorted(rel[RequestTransition], key=lambda t: (t.at, t.id))
    reached = {t.to_state for t in transitions}
    answered = next((t.at for t in transitions if t.to_state in ANSWERS), None)
    packaged = {p.disclosure_id for p in rel[DisclosurePackage]}
    held_back = any(u.state == "withheld" or (u.not_before and u.not_before > u.created_at) for u in rel[UserNotice])
    return RequestFacts(
        country=country.upper(),
        instrument=request.instrument,
        accounts=_accounts(rel[RequestTarget]),
        affected=frozenset(a for d in rel[Disclosure] if d.id in packaged for a in d.accounts),
        valid=request.verdict == Verdict.PASS,
        clarified=RequestState.CLARIFICATION_REQUESTED in reached,
        narrowed=any(d.narrowed or d.outcome == "produce_in_part" for d in rel[PolicyDecision]),
        refused=RequestState.REFUSED in reached,
        produced=bool(packaged),
        emergency=request.emergency,
        non_disclosure=held_back or request.instrument == InstrumentCode.US_2705B_NDO,
        hours_to_answer=_hours_between(request.received_at, answered),
    )
