"""The government-request report: per country of the issuing authority and per period, the
requests received by instrument, the accounts they specified, and what became of them.

The lawful-request domain reads and counts the requests (`trustdesk.legal.disclosure.numbers`:
`gather` reads one `RequestFacts` per government request received in the period, `count`
counts them), the same functions that give the legal team its numbers; this module only
names, orders and presents them. Totals are the same count over all requests, never a sum of
rounded per-country figures, and the tests check that the per-country counts add up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pycountry
from sqlalchemy.orm import Session

from trustdesk.legal.disclosure import numbers
from trustdesk.legal.disclosure.numbers import CountryCounts, RequestFacts
from trustdesk.legal.instruments import load_catalogue
from trustdesk.transparency.reports.figures import share
from trustdesk.transparency.reports.periods import Period

__all__ = [
    "ALL",
    "CountryFigures",
    "GovernmentReport",
    "RequestFacts",
    "aggregate",
    "build",
    "by_country",
    "country_name",
    "gather",
]

ALL = "ALL"
# The definitions of trustdesk.legal.disclosure.numbers, which counts every figure of the report.
SOURCE_NOTE = (
    "Requests = every request an authority filed in the period, whatever became of it (refused, invalid, withdrawn or still "
    "open); what the provider sends itself (DSA Art. 18 notifications) is not counted. Valid = every check of the instrument passed at intake; clarified = sent back to the authority for clarification at "
    "least once; narrowed = the policy decision produced less than was asked; refused = refused at any point, with an "
    "Annex III reason; some data produced = a signed package was delivered to the requesting officer; accounts specified = "
    "distinct accounts the request named; accounts affected = distinct accounts in delivered packages; non-disclosure = the "
    "user's notice was held back (a non-disclosure order, the issuer's confidentiality, an emergency delay) or the request is "
    "itself a non-disclosure order; time to answer = from receipt to the first answer or refusal."
)


@dataclass(frozen=True)
class CountryFigures(CountryCounts):
    """The legal domain's counts of one country, with the report's names and shares in per cent."""

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
    return CountryFigures(**vars(numbers.count(country, facts)))


def by_country(facts: Iterable[RequestFacts]) -> list[CountryFigures]:
    """One row per country, the most requests first, then by name."""
    rows = [aggregate(code, group) for code, group in numbers.by_country(facts).items()]
    return sorted(rows, key=lambda row: (-row.received, row.name))


def build(session: Session, *, period: Period, now: datetime) -> GovernmentReport:
    facts = gather(session, period=period)
    order = [str(code) for code in load_catalogue().instruments]
    received = {f.instrument for f in facts}
    names = {code: load_catalogue().get(code).name for code in order if code in received}
    return GovernmentReport(
        period=period, generated_at=now, countries=by_country(facts), total=aggregate(ALL, facts), instruments=names
    )


def gather(session: Session, *, period: Period) -> list[RequestFacts]:
    """One `RequestFacts` per government request received within the period."""
    return numbers.gather(session, start=period.start, end=period.end)
