"""Who posted the messages Trustdesk holds records about, so that a rights request or a hold
check naming an account finds the notices and cases about that account's messages even when
nothing was done about them (no enforcement action names the sender).

Bounded by what Trustdesk holds, never by the platform: the candidates are the message ids
named by notices and review cases (subject_kind "message"); their senders come first from
what Trustdesk itself stores (enforcement actions, the pipeline's handled events, the Matrix
connector's stored events), and only the ids still without a sender are asked of the platform
port (`get_message`), in batches of LOOKUP_BATCH. A message the platform cannot answer for
(deleted, never known, the platform down) is left *unresolved*: it is never guessed to be
anyone's, and the caller lists it in the staff-only reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.platform.matrix.models import MatrixEvent
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Case

MESSAGE = "message"
LOOKUP_BATCH = 200  # ids per query, and per round of platform lookups
MARK = "pseud:"  # rows.MARK: a pseudonymised sender leads to no one


@dataclass(frozen=True)
class Authorship:
    """Sender per held message id, and the held ids whose sender no one could say."""

    senders: dict[str, str] = field(default_factory=dict)
    unresolved: frozenset[str] = frozenset()

    def messages_of(self, accounts: Iterable[str]) -> set[str]:
        wanted = set(accounts)
        return {m for m, sender in self.senders.items() if sender in wanted}


def held_message_ids(session: Session) -> set[str]:
    """The message ids notices and review cases are about: all a lookup may ever ask for."""
    found = set(session.scalars(select(Notice.subject_id).where(Notice.subject_kind == MESSAGE).distinct()))
    found |= set(session.scalars(select(Case.subject_id).where(Case.subject_kind == MESSAGE).distinct()))
    return {m for m in found if m and not m.startswith(MARK)}


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), LOOKUP_BATCH):
        yield ordered[start : start + LOOKUP_BATCH]


def stored_senders(session: Session, message_ids: Iterable[str]) -> dict[str, str]:
    """Senders Trustdesk already stores: an action on the message, the pipeline's event with
    the message's id, the Matrix connector's stored event. The first one found wins."""
    found: dict[str, str] = {}
    sources = (
        (EnforcementAction.subject_id, EnforcementAction.account_id, EnforcementAction.subject_kind == MESSAGE),
        (HandledEvent.event_id, HandledEvent.actor, None),
        (MatrixEvent.event_id, MatrixEvent.sender, None),
    )
    for chunk in _chunks(message_ids):
        for key, sender, extra in sources:
            query = select(key, sender).where(key.in_(chunk))
            if extra is not None:
                query = query.where(extra)
            for message_id, account in session.execute(query):
                if account and not account.startswith(MARK):
                    found.setdefault(message_id, account)
    return found


def resolve(session: Session, platform: Platform | None, message_ids: Iterable[str] | None = None) -> Authorship:
    """Senders of `message_ids` (by default every held message id): stored ones first, then
    the platform's answer for the rest. Without a platform the rest stay unresolved."""
    ids = held_message_ids(session) if message_ids is None else set(message_ids)
    senders = stored_senders(session, ids)
    missing = ids - set(senders)
    unresolved: set[str] = set()
    for chunk in _chunks(missing):
        for message_id in chunk:
            if platform is None:
                unresolved.add(message_id)
                continue
            try:
                sender = platform.get_message(message_id).sender_id
            except (LookupError, PlatformError):
                unresolved.add(message_id)  # deleted or unknown: never guessed
                continue
            if sender:
                senders[message_id] = sender
            else:
                unresolved.add(message_id)
    return Authorship(senders, frozenset(unresolved))
