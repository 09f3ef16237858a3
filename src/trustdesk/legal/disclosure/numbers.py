"""Numbers for transparency, per country of the issuing authority and per period: the same
counts for every country, from the same records (LEGAL.md: 'one process for every country').

Definitions (also in docs/policy.md): received = filed in the period; valid = every check of
the instrument passed at intake; clarified = sent back for clarification at least once;
narrowed = a decision that produced less than was asked (categories, targets or period);
refused = refused at any point; data produced = a package was delivered; accounts affected =
distinct accounts in delivered packages; emergency share = emergency requests / received;
non-disclosure share = requests whose user notice was held back (a non-disclosure order, the
issuer's confidentiality, an emergency delay) or that are themselves non-disclosure orders,
/ received; median time to answer = receipt to the first answer or refusal, in hours."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.legal.disclosure.models import Disclosure, DisclosurePackage, UserNotice
from trustdesk.legal.instruments import InstrumentCode
from trustdesk.legal.models import Agency, LawfulRequest, RequestTransition
from trustdesk.legal.policy.models import PolicyDecision
from trustdesk.legal.workflow import RequestState

ANSWERS = frozenset({RequestState.ANSWERED.value, RequestState.PARTLY_ANSWERED.value, RequestState.REFUSED.value})


@dataclass
class CountryNumbers:
    country: str
    received: int = 0
    valid: int = 0
    clarified: int = 0
    narrowed: int = 0
    refused: int = 0
    data_produced: int = 0
    accounts: set[str] = field(default_factory=set)
    emergency: int = 0
    non_disclosure: int = 0
    answer_hours: list[float] = field(default_factory=list)

    def _share(self, part: int) -> float | None:
        return round(part / self.received, 4) if self.received else None

    def as_dict(self) -> dict[str, object]:
        median = statistics.median(self.answer_hours) if self.answer_hours else None
        return {"country": self.country, "received": self.received, "valid": self.valid, "clarified": self.clarified,
                "narrowed": self.narrowed, "refused": self.refused, "data_produced": self.data_produced,
                "accounts_affected": len(self.accounts), "emergency_share": self._share(self.emergency),
                "non_disclosure_share": self._share(self.non_disclosure),
                "median_hours_to_answer": None if median is None else round(median, 2)}


def _by_request(session: Session, model: type, ids: list[int]) -> dict[int, list]:
    rows: dict[int, list] = defaultdict(list)
    for row in session.scalars(select(model).where(model.request_id.in_(ids))):
        rows[row.request_id].append(row)
    return rows


def government_numbers(session: Session, *, principal: Principal, start: datetime, end: datetime, country: str | None = None) -> list[dict[str, object]]:
    """One row per country with requests received in [start, end), sorted by country."""
    authorize(principal, Permission.REQUESTS_READ)
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise InvalidInput("The period needs an aware start before its end.")
    query = select(LawfulRequest, Agency.country).join(Agency, Agency.id == LawfulRequest.agency_id)
    query = query.where(LawfulRequest.received_at >= start, LawfulRequest.received_at < end)
    rows = session.execute(query if country is None else query.where(Agency.country == country.upper())).all()
    ids = [r.id for r, _ in rows]
    related = {m: _by_request(session, m, ids) for m in (RequestTransition, PolicyDecision, DisclosurePackage, Disclosure, UserNotice)}
    table: dict[str, CountryNumbers] = {}
    for request, code in rows:
        _count(table.setdefault(code, CountryNumbers(code)), request, {m: related[m].get(request.id, []) for m in related})
    return [table[c].as_dict() for c in sorted(table)]


def _count(n: CountryNumbers, request: LawfulRequest, rel: dict[type, list]) -> None:
    transitions = rel[RequestTransition]
    n.received += 1
    n.valid += request.verdict == "pass"
    n.clarified += any(t.to_state == RequestState.CLARIFICATION_REQUESTED for t in transitions)
    n.refused += any(t.to_state == RequestState.REFUSED for t in transitions)
    n.narrowed += any(d.narrowed or d.outcome == "produce_in_part" for d in rel[PolicyDecision])
    n.emergency += request.emergency
    packaged = {p.disclosure_id for p in rel[DisclosurePackage]}
    if packaged:
        n.data_produced += 1
        n.accounts.update(a for d in rel[Disclosure] if d.id in packaged for a in d.accounts)
    held_back = any(u.state == "withheld" or (u.not_before and u.not_before > u.created_at) for u in rel[UserNotice])
    n.non_disclosure += held_back or request.instrument == InstrumentCode.US_2705B_NDO
    answered = sorted(t.at for t in transitions if t.to_state in ANSWERS)
    if answered:
        n.answer_hours.append((answered[0] - request.received_at).total_seconds() / 3600)
