"""Threat to life or safety (DSA Art. 18): who must be told, and the notification draft.

Review or a rule finds a threat; the lane opens a case with the member states concerned
(where it happens, where the suspect is, where the victim is). When none of them is a member
state we can name with reasonable certainty, the state of establishment and Europol are
told instead. The notification is a draft: a person confirms and sends it, because a wrong
report about a person to the police is itself a harm. Who-is-told is pure and data-driven
(`recipients_for`), so it is tested on its own."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.emergency.models import ThreatCase, ThreatSource, ThreatState

CONTACT_POINTS = Path(__file__).parent / "data" / "art18_contact_points.toml"
MAX_SUMMARY = 5_000


@dataclass(frozen=True)
class ContactPoint:
    key: str  # a country code, or "EUROPOL"
    authority: str
    confirmed: bool
    source_url: str


@dataclass(frozen=True)
class ContactBook:
    version: str
    establishment: str
    states: dict[str, ContactPoint]
    europol: ContactPoint
    rule: str


@cache
def contact_book(path: Path = CONTACT_POINTS) -> ContactBook:
    with path.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    sources = raw["sources"]

    def point(key: str, entry: dict[str, Any]) -> ContactPoint:
        return ContactPoint(key, entry["authority"], bool(entry["confirmed"]), sources[entry["source"]]["url"])

    states = {s["country"]: point(s["country"], s) for s in raw["states"]}
    return ContactBook(
        raw["version"], raw["provider"]["establishment"], states, point("EUROPOL", raw["europol"]), sources["dsa_art_18"]["rule"]
    )


def _country(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InvalidInput(f"{field} must be a two-letter country code (ISO 3166-1), not '{value}'.", field=field)
    return code


def recipients_for(
    *, place: str | None, suspect: str | None, victim: str | None, book: ContactBook | None = None
) -> tuple[list[ContactPoint], str]:
    """The authorities to notify and why, in the order place, suspect, victim."""
    book = book or contact_book()
    given = [c for c in (place, suspect, victim) if c]
    concerned = list(dict.fromkeys(c for c in given if c in book.states))
    if concerned:
        return [book.states[c] for c in concerned], f"member state(s) concerned: {', '.join(concerned)} (place, suspect, victim)"
    outside = (
        f" ({', '.join(dict.fromkeys(given))} outside the EU: consider that country's authorities separately)" if given else ""
    )
    fallback = [book.states[book.establishment], book.europol]
    return (
        fallback,
        f"no member state identified with reasonable certainty{outside}: the state of establishment ({book.establishment}) and Europol",
    )


def _draft(
    *,
    summary: str,
    recipients: list[ContactPoint],
    message_id: str | None,
    account_id: str | None,
    place: str | None,
    suspect: str | None,
    victim: str | None,
) -> str:
    to = "; ".join(r.authority for r in recipients)
    lines = [
        f"To: {to}",
        "Subject: Notification of a suspected criminal offence involving a threat to the life or safety of persons (Regulation (EU) 2022/2065, Art. 18)",
        "",
        "We inform you of information that gives rise to a suspicion that a criminal offence involving a threat to the life or safety of a person has taken place, is taking place or is likely to take place.",
        "",
        f"What we know: {summary}",
        f"Where: {place or 'unknown'}; suspected offender located in: {suspect or 'unknown'}; victim located in: {victim or 'unknown'}.",
        f"Platform references: account {account_id or '-'}, message {message_id or '-'}.",
        "",
        "The content concerned has been preserved. Further data can be disclosed on a lawful request through our law-enforcement portal.",
    ]
    return "\n".join(lines)


def open_case(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    source: ThreatSource,
    summary: str,
    source_ref: str | None = None,
    message_id: str | None = None,
    account_id: str | None = None,
    place: str | None = None,
    suspect: str | None = None,
    victim: str | None = None,
) -> ThreatCase:
    """Open a threat-to-life case with its recipients and notification draft."""
    text = summary.strip()
    if not text or len(text) > MAX_SUMMARY:
        raise InvalidInput(f"Describe the threat in 1 to {MAX_SUMMARY} characters.", field="summary")
    place, suspect, victim = _country(place, "place"), _country(suspect, "suspect"), _country(victim, "victim")
    book = contact_book()
    recipients, why = recipients_for(place=place, suspect=suspect, victim=victim, book=book)
    case = ThreatCase(
        state=ThreatState.DRAFT.value,
        source=source.value,
        source_ref=source_ref,
        message_id=message_id,
        account_id=account_id,
        summary=text,
        place_country=place,
        suspect_country=suspect,
        victim_country=victim,
        recipients=[
            {"key": r.key, "authority": r.authority, "confirmed": r.confirmed, "source": r.source_url} for r in recipients
        ],
        recipient_reason=why,
        draft=_draft(
            summary=text,
            recipients=recipients,
            message_id=message_id,
            account_id=account_id,
            place=place,
            suspect=suspect,
            victim=victim,
        ),
        contact_points_version=book.version,
        created_at=clock.now(),
        created_by=str(actor),
    )
    session.add(case)
    session.flush()
    record(
        session,
        actor=actor,
        action="threat.open",
        object_type="threat_case",
        object_id=case.id,
        reason=why,
        clock=clock,
        details={"source": case.source, "recipients": [r.key for r in recipients], "contact_points_version": book.version},
    )
    return case


def get_case(session: Session, *, case_id: int) -> ThreatCase:
    case = session.get(ThreatCase, case_id)
    if case is None:
        raise NotFound(f"There is no threat-to-life case {case_id}.")
    return case


def open_cases(session: Session) -> list[ThreatCase]:
    query = select(ThreatCase).where(ThreatCase.state == ThreatState.DRAFT.value).order_by(ThreatCase.created_at)
    return list(session.scalars(query))


def recent_cases(session: Session, *, limit: int = 50) -> list[ThreatCase]:
    return list(session.scalars(select(ThreatCase).order_by(ThreatCase.id.desc()).limit(limit)))


def _decide(session: Session, *, actor: Actor, clock: Clock, case_id: int, state: ThreatState, note: str) -> ThreatCase:
    case = get_case(session, case_id=case_id)
    if case.state != ThreatState.DRAFT.value:
        raise Conflict(f"Case {case_id} is already {case.state}.")
    case.state, case.decision_note = state.value, note.strip() or None
    case.decided_at, case.decided_by = clock.now(), str(actor)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"threat.{state.value}",
        object_type="threat_case",
        object_id=case.id,
        reason=note.strip() or None,
        clock=clock,
        details={"recipients": [r["key"] for r in case.recipients]},
    )
    return case


def confirm_and_send(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    case_id: int,
    draft: str | None = None,
    note: str = "",
) -> ThreatCase:
    """A person confirms the notification (edited or not) and records that it went out."""
    authorize(principal, Permission.EMERGENCY_HANDLE)
    case = get_case(session, case_id=case_id)
    if draft is not None:
        if not draft.strip():
            raise InvalidInput("The notification cannot be empty.", field="draft")
        case.draft = draft.strip()
    return _decide(session, actor=actor, clock=clock, case_id=case_id, state=ThreatState.SENT, note=note)


def dismiss(session: Session, *, actor: Actor, clock: Clock, principal: Principal, case_id: int, note: str) -> ThreatCase:
    """Not a threat after all: the reason is required, because not telling is a decision too."""
    authorize(principal, Permission.EMERGENCY_HANDLE)
    if not note.strip():
        raise InvalidInput("Say why no notification is sent; it is kept in the record.", field="note")
    return _decide(session, actor=actor, clock=clock, case_id=case_id, state=ThreatState.DISMISSED, note=note)
