"""Finding cases in a working day's queue: search, filters and sort orders, each one a keyset
order (page 2,000 costs what page 1 costs) and each filter backed by an index (migration
`0001_console`), and "claim next": the first case of the reviewer's current view that no one
else holds.

A filter is parsed from the query string once (`CaseFilter.parse`), so that a saved view, a
link and the form all mean the same thing, and a bad value is a clear error at its field."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Principal
from trustdesk.http.pagination import Keyset, SortKey
from trustdesk.safety.review import service
from trustdesk.safety.review.models import OPEN_STATES, Case

SORTS: dict[str, tuple[str, Keyset]] = {
    "priority": ("most urgent first", service.CASE_ORDER),
    "due": (
        "due soonest first",
        Keyset((SortKey(Case.due_at, "due_at", instant=True), SortKey(Case.id, "id"))),
    ),
    "oldest": (
        "oldest first",
        Keyset((SortKey(Case.opened_at, "opened_at", instant=True), SortKey(Case.id, "id"))),
    ),
    "newest": (
        "newest first",
        Keyset((SortKey(Case.opened_at, "opened_at", instant=True, descending=True), SortKey(Case.id, "id", descending=True))),
    ),
}
STATES = ("open", "escalated", "waiting", "decided")  # waiting: open or escalated
ASSIGNEES = ("", "me", "unclaimed", "others")
DUE = {"": None, "overdue": timedelta(0), "4h": timedelta(hours=4), "24h": timedelta(hours=24)}


@dataclass(frozen=True)
class CaseFilter:
    q: str = ""  # a case number or a subject's id
    state: str = "waiting"
    policy: str = ""
    min_priority: int | None = None
    assignee: str = ""  # me | unclaimed | others | a username
    due: str = ""  # overdue | 4h | 24h
    sort: str = "priority"

    @classmethod
    def parse(cls, params: dict[str, str]) -> CaseFilter:
        got = {k: str(v).strip() for k, v in params.items()}
        state, sort, due = got.get("state") or "waiting", got.get("sort") or "priority", got.get("due", "")
        if state not in STATES:
            raise InvalidInput(f"Choose a state from: {', '.join(STATES)}.", field="state")
        if sort not in SORTS:
            raise InvalidInput(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
        if due not in DUE:
            raise InvalidInput("Due: overdue, 4h or 24h.", field="due")
        raw = got.get("min_priority", "")
        if raw and not (raw.isdigit() and 0 <= int(raw) <= 100):
            raise InvalidInput("Priority runs from 0 to 100.", field="min_priority")
        return cls(
            q=got.get("q", "")[:128],
            state=state,
            policy=got.get("policy", "")[:64],
            min_priority=int(raw) if raw else None,
            assignee=got.get("assignee", "")[:64],
            due=due,
            sort=sort,
        )

    def query(self) -> dict[str, str]:
        """The filter as query parameters, without the defaults (for links and saved views)."""
        values = {
            "q": self.q,
            "state": "" if self.state == "waiting" else self.state,
            "policy": self.policy,
            "min_priority": "" if self.min_priority is None else str(self.min_priority),
            "assignee": self.assignee,
            "due": self.due,
            "sort": "" if self.sort == "priority" else self.sort,
        }
        return {k: v for k, v in values.items() if v}

    def link(self, path: str, **extra: str) -> str:
        params = {**self.query(), **{k: v for k, v in extra.items() if v}}
        return f"{path}?{urlencode(params)}" if params else path

    def sorted_link(self, path: str, sort: str) -> str:
        return replace(self, sort=sort).link(path)

    def where(self, query: Select[Any], *, username: str, now: datetime) -> Select[Any]:
        states = OPEN_STATES if self.state == "waiting" else (self.state,)
        query = query.where(Case.state.in_(states))
        if self.q:
            by_id = [Case.id == int(self.q)] if self.q.isdigit() and len(self.q) < 10 else []
            query = query.where(or_(Case.subject_id == self.q, *by_id))
        if self.policy:
            query = query.where(Case.policy_hint == self.policy)
        if self.min_priority is not None:
            query = query.where(Case.priority >= self.min_priority)
        query = self._assignee(query, username=username, now=now)
        window = DUE.get(self.due)
        if window is not None:
            query = query.where(Case.due_at < now + window)
        return query

    def _assignee(self, query: Select[Any], *, username: str, now: datetime) -> Select[Any]:
        held = Case.claim_expires_at > now
        if self.assignee == "me":
            return query.where(Case.claimed_by == username, held)
        if self.assignee == "unclaimed":
            return query.where(or_(Case.claimed_by.is_(None), Case.claim_expires_at <= now))
        if self.assignee == "others":
            return query.where(Case.claimed_by.is_not(None), Case.claimed_by != username, held)
        if self.assignee:
            return query.where(Case.claimed_by == self.assignee, held)
        return query


def find_cases(
    session: Session,
    *,
    principal: Principal,
    queue: str,
    found: CaseFilter,
    now: datetime,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """A page of one queue under `found`, in its sort order, and the next page's cursor."""
    queues = service.visible_queues(session, principal=principal)
    if queues is not None and queue not in queues:
        raise NotFound(f"You are not a member of queue '{queue}'.")
    query = found.where(select(Case).where(Case.queue == queue), username=principal.name, now=now)
    return SORTS[found.sort][1].page(session, query, cursor=cursor, limit=limit)


def claim_next(
    session: Session, *, principal: Principal, actor: Actor, clock: Clock, queue: str, found: CaseFilter, tries: int = 5
) -> Case:
    """Claim the first case of the view that no one else holds. Two reviewers pressing it at
    once race on the claim's conditional UPDATE: the loser moves on to the next case."""
    free = replace(found, assignee="", state=found.state if found.state != "decided" else "waiting")
    now = clock.now()
    candidates, _ = find_cases(session, principal=principal, queue=queue, found=free, now=now, limit=tries * 4)
    for case in candidates:
        if case.claimed_by not in (None, principal.name) and case.claim_expires_at is not None and case.claim_expires_at > now:
            continue
        if case.claimed_by == principal.name and case.claim_expires_at is not None and case.claim_expires_at > now:
            continue  # already yours: the next one is another
        try:
            with session.begin_nested():
                return service.claim(session, principal=principal, actor=actor, clock=clock, case_id=case.id)
        except Conflict:
            session.refresh(case)
            if case.claimed_by in (None, principal.name):
                raise  # not a race: the reviewer's own daily limit, say
            tries -= 1
            if tries <= 0:
                break
    raise NotFound("No unclaimed case left in this view: change the filters, or take a break.")
