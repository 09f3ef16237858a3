"""Finding a platform user's rows through the data map, and emptying rows as the map says.

Shared by retention (rows past their period) and erasure (one person's rows now): both empty
the columns an entry names in `clear`, replace those in `pseudonymise` by a mark that leads
to no one, and write a `privacy_purged` mark per row, so that no row is emptied twice and the
record says which rows went, never what they held."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, LargeBinary, Select, Table, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from trustdesk.core.database import Base, import_all_models, insert_many, table_of
from trustdesk.legal.disclosure.models import HoldState, LegalHold, NoticeState, UserNotice
from trustdesk.legal.models import LawfulRequest, RequestTarget
from trustdesk.legal.workflow import FINAL
from trustdesk.privacy.authors import Authorship
from trustdesk.privacy.datamap import TableEntry
from trustdesk.privacy.models import Obstacle, PurgedRow, Restriction
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.review.models import Appeal, AppealState

MARK = "pseud:"
BATCH = 2000
PURGED = table_of(PurgedRow)
_INSERT_MARKS = insert(PURGED)


def table(name: str) -> Table:
    """A table of the data map by name. Every model module is imported first: a process that
    never imported a room (a `trustdesk jobs run` worker has no Matrix connector loaded) would
    not know its tables, and retention failed there with a KeyError."""
    tables = Base.metadata.tables
    if name not in tables:
        tables = import_all_models().tables
    return tables[name]


def primary_key(t: Table) -> Column[Any]:
    (key,) = t.primary_key.columns  # every table retention empties has a one-column key
    return key


class Pseudonyms:
    """Marks for identifiers, keyed by a secret that lives only as long as this object: one
    account's rows emptied together share a mark (counts per account still add up), and no
    key is kept from which the mark could be turned back."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def mark(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.startswith(MARK)):
            return value
        return MARK + hmac.new(self._key, str(value).encode(), hashlib.sha256).hexdigest()[:16]


def empty_value(column: Column[Any], current: Any) -> Any:
    """What an emptied column holds: NULL where it may, else the empty value of its type."""
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return [] if isinstance(current, list) else {}
    if isinstance(column.type, LargeBinary):
        return b""
    return ""


def identifiers_of(session: Session, accounts: Iterable[str], authorship: Authorship | None = None) -> frozenset[str]:
    """A platform user's account ids, the subject ids (messages, media) that actions on them
    named, and, given `authorship` (authors.resolve), the held messages they posted that
    nothing was done about: what a match column may hold."""
    found = {a for a in accounts if a}
    if not found:
        return frozenset()
    subjects = select(EnforcementAction.subject_id).where(EnforcementAction.account_id.in_(sorted(found)))
    posted = authorship.messages_of(found) if authorship is not None else set()
    return frozenset(found | set(session.scalars(subjects)) | posted)


@dataclass(frozen=True)
class Protection:
    """What retention must keep, by obstacle: identifiers of accounts under a legal hold, named
    in an open lawful request, with an undecided appeal, or restricted by their owner."""

    by: dict[Obstacle, frozenset[str]] = field(default_factory=dict)

    def obstacle(self, values: Iterable[Any]) -> Obstacle | None:
        present = {v for v in values if v is not None}
        for obstacle, ids in self.by.items():
            if present & ids:
                return obstacle
        return None


def held_accounts(session: Session) -> set[str]:
    return set(session.scalars(select(LegalHold.account_id).where(LegalHold.state == HoldState.ACTIVE.value)))


def ordered_accounts(session: Session) -> set[str]:
    query = (
        select(RequestTarget.account_id)
        .join(LawfulRequest, LawfulRequest.id == RequestTarget.request_id)
        .where(RequestTarget.account_id.is_not(None), LawfulRequest.state.not_in([s.value for s in FINAL]))
    )
    return {a for a in session.scalars(query) if a}


def appealing_accounts(session: Session) -> set[str]:
    query = (
        select(StatementOfReasons.account_id)
        .join(Appeal, Appeal.statement_id == StatementOfReasons.id)
        .where(Appeal.state == AppealState.OPEN.value, StatementOfReasons.account_id.is_not(None))
    )
    return {a for a in session.scalars(query) if a}


def restricted_accounts(session: Session) -> set[str]:
    return set(session.scalars(select(Restriction.account_id).where(Restriction.lifted_at.is_(None))))


def hold_references(session: Session, account_id: str) -> list[str]:
    query = (
        select(LawfulRequest.reference)
        .join(LegalHold, LegalHold.request_id == LawfulRequest.id)
        .where(LegalHold.account_id == account_id, LegalHold.state == HoldState.ACTIVE.value)
    )
    return sorted(set(session.scalars(query)))


def order_references(session: Session, account_id: str) -> list[str]:
    query = (
        select(LawfulRequest.reference)
        .join(RequestTarget, RequestTarget.request_id == LawfulRequest.id)
        .where(RequestTarget.account_id == account_id, LawfulRequest.state.not_in([s.value for s in FINAL]))
    )
    return sorted(set(session.scalars(query)))


def protection(session: Session, authorship: Authorship | None = None) -> Protection:
    sources = {
        Obstacle.LEGAL_HOLD: held_accounts(session),
        Obstacle.OPEN_ORDER: ordered_accounts(session),
        Obstacle.OPEN_APPEAL: appealing_accounts(session),
        Obstacle.RESTRICTED: restricted_accounts(session),
    }
    return Protection({o: identifiers_of(session, accounts, authorship) for o, accounts in sources.items() if accounts})


def gagged_requests(session: Session, account_id: str) -> list[tuple[LawfulRequest, Obstacle]]:
    """The lawful requests about `account_id` that the person may not be told of yet: a user
    notice waits (a non-disclosure order, or the instrument's delay), or none was sent at all
    (the instrument's own confidentiality). Named by targets, holds and notices alike."""
    ids = set(session.scalars(select(RequestTarget.request_id).where(RequestTarget.account_id == account_id)))
    ids |= set(session.scalars(select(LegalHold.request_id).where(LegalHold.account_id == account_id)))
    notices = session.scalars(select(UserNotice).where(UserNotice.account_id == account_id)).all()
    ids |= {n.request_id for n in notices}
    sent = {n.request_id for n in notices if n.state == NoticeState.SENT.value}
    waiting = {n.request_id for n in notices if n.state != NoticeState.SENT.value}
    requests = session.scalars(select(LawfulRequest).where(LawfulRequest.id.in_(sorted(ids - sent)))).all()
    return [(r, Obstacle.NON_DISCLOSURE if r.id in waiting else Obstacle.CONFIDENTIAL_ORDER) for r in requests]


# -- selecting and emptying rows -------------------------------------------------------------


def _unmarked(t: Table, key: Column[Any]) -> ColumnElement[bool]:
    marked = exists().where(PURGED.c.table_name == t.name, PURGED.c.row_key == key.cast(PURGED.c.row_key.type))
    return ~marked


def match_columns(entry: TableEntry, t: Table) -> tuple[list[ColumnElement[Any]], Any]:
    """The columns whose values say whose a row is, and the FROM clause that reaches them."""
    if entry.via is None:
        return [t.c[name] for name in entry.match], t
    column, parent_name, parent_column = entry.via
    parent = table(parent_name)
    joined = t.outerjoin(parent, t.c[column] == primary_key(parent))
    return [parent.c[parent_column].label("_via")], joined


def selection(entry: TableEntry, *, where: ColumnElement[bool]) -> Select[Any]:
    """The rows of `entry` not yet emptied where `where` holds: key, match values, cleared values."""
    t = table(entry.table)
    key = primary_key(t)
    matches, source = match_columns(entry, t)
    cleared = [t.c[name] for name in entry.clear]
    return select(key.label("_key"), *cleared, *matches).select_from(source).where(where, _unmarked(t, key)).order_by(key)


def batches(session: Session, query: Select[Any], key: Column[Any]) -> Iterator[Sequence[Any]]:
    """`query`'s rows a batch at a time, by key, so a large table is never read at once."""
    last: Any = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = session.execute(page.limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1]._key


def empty_rows(
    session: Session,
    entry: TableEntry,
    rows: Sequence[Any],
    *,
    pseudonyms: Pseudonyms,
    at: datetime,
    cause: str,
    request_id: int | None = None,
) -> int:
    """Empty `rows` (from `selection`) as `entry` says and mark each; returns how many."""
    if not rows:
        return 0
    t = table(entry.table)
    key = primary_key(t)
    keys = [row._key for row in rows]
    params = []
    if entry.pseudonymise:
        current = {r[0]: r[1:] for r in session.execute(select(key, *(t.c[n] for n in entry.pseudonymise)).where(key.in_(keys)))}
    for row in rows:
        values = {f"_c_{n}": empty_value(t.c[n], getattr(row, n)) for n in entry.clear}
        for i, name in enumerate(entry.pseudonymise):
            values[f"_p_{name}"] = pseudonyms.mark(current[row._key][i])
        params.append({"_k": row._key, **values})
    assignments: dict[str, Any] = {n: bindparam(f"_c_{n}") for n in entry.clear} | {
        n: bindparam(f"_p_{n}") for n in entry.pseudonymise
    }
    if assignments:
        statement = update(t).where(key == bindparam("_k")).values(assignments)
        session.connection().execute(statement.execution_options(synchronize_session=False), params)
    marks = [
        {
            "table_name": t.name,
            "row_key": str(k),
            "action": entry.action.value,
            "cause": cause,
            "at": at,
            "request_id": request_id,
        }
        for k in keys
    ]
    insert_many(session, _INSERT_MARKS, marks)
    return len(keys)


def rows_of(entry: TableEntry, ids: frozenset[str]) -> ColumnElement[bool]:
    """The rows of `entry` whose match columns name one of `ids`."""
    t = table(entry.table)
    matches, _ = match_columns(entry, t)
    if entry.via is not None:
        column, parent_name, parent_column = entry.via
        parent = table(parent_name)
        inner = select(primary_key(parent)).where(parent.c[parent_column].in_(sorted(ids)))
        return t.c[column].in_(inner)
    if not matches:
        raise ValueError(f"{entry.table} names no match column: a person's rows cannot be found in it")
    return or_(*(c.in_(sorted(ids)) for c in matches))
