"""Finding requests in the legal team's queue: search by reference, filters (state,
instrument, the authority's country, emergencies, due) and sort orders, each a keyset order
and each filter backed by an index (migration `0001_console`). A filter is parsed from the
query string once, so a saved view, a link and the form mean the same thing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Principal
from trustdesk.http.pagination import Keyset, SortKey
from trustdesk.legal import service
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestState
from trustdesk.legal.workflow import FINAL

SORTS: dict[str, tuple[str, Keyset]] = {
    "due": ("least time left first", service.QUEUE_ORDER),
    "newest": (
        "newest first",
        Keyset(
            (
                SortKey(LawfulRequest.received_at, "received_at", instant=True, descending=True),
                SortKey(LawfulRequest.id, "id", descending=True),
            )
        ),
    ),
    "oldest": (
        "oldest first",
        Keyset((SortKey(LawfulRequest.received_at, "received_at", instant=True), SortKey(LawfulRequest.id, "id"))),
    ),
}
DUE = {"": None, "overdue": timedelta(0), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
SHOW = ("open", "all")


@dataclass(frozen=True)
class RequestFilter:
    q: str = ""  # a reference (LR-2026-000123) or its number
    show: str = "open"
    state: str = ""
    instrument: str = ""
    country: str = ""
    emergency: bool = False
    due: str = ""
    sort: str = "due"

    @classmethod
    def parse(cls, params: dict[str, str]) -> RequestFilter:
        got = {k: str(v).strip() for k, v in params.items()}
        show, sort, due = got.get("show") or "open", got.get("sort") or "due", got.get("due", "")
        state, instrument, country = got.get("state", ""), got.get("instrument", ""), got.get("country", "").upper()
        if show not in SHOW:
            raise InvalidInput("Show open or all requests.", field="show")
        if sort not in SORTS:
            raise InvalidInput(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
        if due not in DUE:
            raise InvalidInput("Due: overdue, 24h or 7d.", field="due")
        if state and state not in RequestState.__members__.values():
            raise InvalidInput(f"Unknown state '{state}'.", field="state")
        if instrument and instrument not in {i.code.value for i in load_catalogue().incoming}:
            raise InvalidInput(f"Unknown instrument '{instrument}'.", field="instrument")
        if country and not (len(country) == 2 and country.isalpha()):
            raise InvalidInput("Give the country as its two-letter code (FR, DE, US).", field="country")
        return cls(
            q=got.get("q", "")[:40],
            show=show,
            state=state,
            instrument=instrument,
            country=country,
            emergency=got.get("emergency", "") in ("1", "on", "true"),
            due=due,
            sort=sort,
        )

    def query(self) -> dict[str, str]:
        values = {
            "q": self.q,
            "show": "" if self.show == "open" else self.show,
            "state": self.state,
            "instrument": self.instrument,
            "country": self.country,
            "emergency": "1" if self.emergency else "",
            "due": self.due,
            "sort": "" if self.sort == "due" else self.sort,
        }
        return {k: v for k, v in values.items() if v}

    def link(self, path: str, **extra: str) -> str:
        params = {**self.query(), **{k: v for k, v in extra.items() if v}}
        return f"{path}?{urlencode(params)}" if params else path

    def sorted_link(self, path: str, sort: str) -> str:
        return replace(self, sort=sort).link(path)

    def where(self, query: Select[Any], *, now: datetime) -> Select[Any]:
        if self.show == "open" and not self.state:
            query = query.where(LawfulRequest.state.not_in([str(s) for s in FINAL]))
        if self.state:
            query = query.where(LawfulRequest.state == self.state)
        if self.q:
            number = self.q.rsplit("-", 1)[-1]
            by_id = [LawfulRequest.id == int(number)] if number.isdigit() and len(number) < 10 and "-" not in self.q else []
            query = query.where(LawfulRequest.reference == self.q.upper()) if not by_id else query.where(*by_id)
        if self.instrument:
            query = query.where(LawfulRequest.instrument == self.instrument)
        if self.country:
            query = query.where(LawfulRequest.agency_id.in_(select(Agency.id).where(Agency.country == self.country)))
        if self.emergency:
            query = query.where(LawfulRequest.emergency.is_(True))
        window = DUE.get(self.due)
        if window is not None:
            query = query.where(LawfulRequest.due_at < now + window)
        return query


def find_requests(
    session: Session, *, principal: Principal, found: RequestFilter, now: datetime, limit: int = 50, cursor: str | None = None
) -> tuple[list[LawfulRequest], str | None]:
    """A page of the caller's queue (their agency's only, for an officer) under `found`."""
    query = found.where(service.scoped_requests(principal), now=now)
    return SORTS[found.sort][1].page(session, query, cursor=cursor, limit=limit)
