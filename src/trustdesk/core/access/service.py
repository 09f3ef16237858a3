"""Who looked: every view of a person's data is justified by a purpose (a case, an appeal, a
lawful request, a data-subject request that concerns that person) and logged (who, when,
why, what). The one place: routes call `require_purpose` and `record_views` (through the
`http/access.py` dependency, or directly where the record shown is its own purpose, a case
or a request); the rooms say which records concern which person (`PurposeCheck`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from trustdesk.core.access.models import AccessEntry
from trustdesk.core.clock import Clock
from trustdesk.core.database import table_of
from trustdesk.core.errors import Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Principal, authorize_access_log_read


class Purpose(StrEnum):
    """What may justify looking at a person's data: a record that concerns them."""

    CASE = "case"  # a review case about the account or one of its messages
    APPEAL = "appeal"  # an appeal against an action on the account
    REQUEST = "request"  # a lawful request that names the account
    TIPLINE = "tipline"  # a CyberTipline draft about the account
    SUBJECT_REQUEST = "subject_request"  # the person's own access or erasure request (privacy room)


class Channel(StrEnum):
    CONSOLE = "console"
    API = "api"
    EXPORT = "export"
    CLI = "cli"


@dataclass(frozen=True)
class Subject:
    """The person whose data is shown, as the record names them (`account`, a target's kind)."""

    kind: str
    id: str


@dataclass(frozen=True)
class Justification:
    purpose: Purpose
    ref: str
    reason: str | None = None  # the viewer's own words

    def __str__(self) -> str:
        return f"{self.purpose}:{self.ref}"


# Whether record `ref` of a purpose concerns `subject`, for the caller (a record outside their
# scope does not justify anything: it raises NotFound or Forbidden, or returns False).
PurposeCheck = Callable[[Session, Principal, str, Subject], bool]

PURPOSE_HELP = (
    "Say why you look: purpose=case:<id>, appeal:<id>, request:<id> or tipline:<id>, a record that concerns this person."
)


def parse_purpose(text: str | None, *, reason: str | None = None, allowed: Iterable[Purpose] = tuple(Purpose)) -> Justification:
    """`case:12` into a justification; a missing or malformed one is bad input (nothing shown)."""
    if not text or not text.strip():
        raise InvalidInput(f"A purpose is required to see a person's data. {PURPOSE_HELP}", field="purpose")
    kind, _, ref = text.strip().partition(":")
    kinds = {str(p) for p in allowed}
    if kind not in kinds or not ref.isdigit() or len(ref) > 10:
        raise InvalidInput(f"'{text[:40]}' is not a purpose. {PURPOSE_HELP}", field="purpose")
    clean = (reason or "").strip()[:500] or None
    return Justification(Purpose(kind), str(int(ref)), clean)


def require_purpose(
    session: Session,
    *,
    principal: Principal,
    justification: Justification,
    subject: Subject,
    checks: Mapping[Purpose, PurposeCheck],
) -> None:
    """Refuse (403) unless the purpose's record exists for the caller and concerns `subject`."""
    check = checks.get(justification.purpose)
    if check is None:
        raise InvalidInput(f"A {justification.purpose} does not justify this view. {PURPOSE_HELP}", field="purpose")
    try:
        concerns = check(session, principal, justification.ref, subject)
    except NotFound:
        concerns = False
    if not concerns:
        raise Forbidden(f"{justification} does not concern this person (or is not yours to see): it does not justify this view.")


def record_views(
    session: Session,
    *,
    principal: Principal,
    clock: Clock,
    subjects: Iterable[Subject],
    what: str,
    justification: Justification,
    channel: Channel,
    object_ref: str | None = None,
    request_id: str | None = None,
) -> int:
    """One access-log row per person shown; committed with the response that shows them."""
    at = clock.now()
    rows = [
        {
            "at": at,
            "actor": principal.actor_name,
            "channel": str(channel),
            "subject_kind": s.kind[:32],
            "subject_id": s.id[:200],
            "what": what,
            "object_ref": object_ref,
            "purpose_kind": str(justification.purpose),
            "purpose_ref": justification.ref,
            "reason": justification.reason,
            "request_id": request_id,
        }
        for s in dict.fromkeys(subjects)  # a person named twice is one view
        if s.id
    ]
    if rows:
        session.execute(insert(table_of(AccessEntry)), rows)
    return len(rows)


def log_for_subject(
    session: Session, *, principal: Principal, subject_id: str, before_id: int | None = None, limit: int = 100
) -> list[AccessEntry]:
    """Who looked at one person's data, newest first (auditors: AUDIT_READ)."""
    authorize_access_log_read(principal)
    query = select(AccessEntry).where(AccessEntry.subject_id == subject_id)
    if before_id is not None:
        query = query.where(AccessEntry.id < before_id)
    return list(session.scalars(query.order_by(AccessEntry.id.desc()).limit(limit)))
