"""The readable export of an access request (GDPR Art. 15): what Trustdesk holds about one
platform user, section by section, as JSON and as Markdown.

What it leaves out, and why: who reported them and the reporter's words (another person's
data, Art. 15(4)); the names of staff who decided (staff data; a decision is the platform's);
lawful requests the person may not be told of yet (`withheld_requests`: a non-disclosure
order or the instrument's confidentiality, GDPR Art. 23), with no trace that anything was
left out; and the reasons staff recorded on earlier rights requests (they may name one)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.legal.disclosure.models import LegalHold, NoticeState, UserNotice
from trustdesk.legal.models import LawfulRequest, RequestTarget
from trustdesk.privacy import rows
from trustdesk.privacy.authors import Authorship
from trustdesk.privacy.datamap import DataMap
from trustdesk.privacy.models import Restriction, RightsRequest, RightState
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons, Strike
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Appeal, Case, Decision

# A rights request's state as the person reads it: never whether a part was held back.
STATE_WORDS = {
    RightState.RECEIVED.value: "received",
    RightState.COMPLETED.value: "answered",
    RightState.PARTLY_DEFERRED.value: "answered",
    RightState.DEFERRED.value: "being handled",
    RightState.REFUSED.value: "refused",
}

SECTIONS = {
    "notices": "Notices about your content or account (who sent them is not shown: that is their data)",
    "decisions": "Decisions on those notices and on reviews",
    "actions": "Actions taken on your content or account",
    "strikes": "Strikes on your account",
    "statements": "Statements of reasons you were sent",
    "appeals": "Your complaints (appeals) and how they were decided",
    "lawful_requests": "Requests from authorities about your account that you have been told of",
    "restrictions": "Restrictions of processing you asked for",
    "rights_requests": "Your requests about your data",
}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _items(objects: Iterable[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for obj in objects:
        item = {}
        for name in fields:
            value = getattr(obj, name)
            item[name] = _time(value) if isinstance(value, datetime) else value
        out.append(item)
    return out


def _lawful_requests(session: Session, account_id: str, withheld: set[int]) -> list[dict[str, Any]]:
    ids = set(session.scalars(select(RequestTarget.request_id).where(RequestTarget.account_id == account_id)))
    ids |= set(session.scalars(select(LegalHold.request_id).where(LegalHold.account_id == account_id)))
    sent = {
        n.request_id: n
        for n in session.scalars(
            select(UserNotice).where(UserNotice.account_id == account_id, UserNotice.state == NoticeState.SENT.value)
        )
    }
    ids |= set(sent)
    allowed = sorted(ids - withheld)
    found = session.scalars(select(LawfulRequest).where(LawfulRequest.id.in_(allowed)).order_by(LawfulRequest.id))
    return [
        {
            "reference": r.reference,
            "instrument": r.instrument,
            "received_at": _time(r.received_at),
            "categories": list(r.categories),
            "state": r.state,
            "you_were_told_at": _time(sent[r.id].sent_at) if r.id in sent else None,
        }
        for r in found
    ]


def build(
    session: Session, *, account_id: str, withheld_requests: set[int], data_map: DataMap, authorship: Authorship | None = None
) -> dict[str, Any]:
    ids = sorted(rows.identifiers_of(session, [account_id], authorship))
    actions = session.scalars(
        select(EnforcementAction)
        .where((EnforcementAction.account_id == account_id) | EnforcementAction.subject_id.in_(ids))
        .order_by(EnforcementAction.id)
    ).all()
    statements = session.scalars(
        select(StatementOfReasons).where(StatementOfReasons.account_id == account_id).order_by(StatementOfReasons.id)
    ).all()
    case_ids = select(Case.id).where(Case.subject_id.in_(ids))
    sections = {
        "notices": _items(
            session.scalars(select(Notice).where(Notice.subject_id.in_(ids)).order_by(Notice.id)),
            ("received_at", "reason", "subject_kind", "subject_id", "location", "outcome", "decided_at"),
        ),
        "decisions": _items(
            session.scalars(select(Decision).where(Decision.case_id.in_(case_ids)).order_by(Decision.id)),
            ("decided_at", "outcome", "policy", "legal_ground", "action", "territorial_scope", "until", "reason"),
        ),
        "actions": _items(
            actions,
            (
                "acted_at",
                "subject_kind",
                "subject_id",
                "action",
                "policy",
                "decision_ground",
                "legal_ground",
                "automated",
                "until",
                "reversed_at",
                "reversal_reason",
            ),
        ),
        "strikes": _items(
            session.scalars(select(Strike).where(Strike.account_id == account_id).order_by(Strike.id)),
            ("issued_at", "policy", "weight", "expires_at", "voided_at", "void_reason"),
        ),
        "statements": _items(statements, ("told_at", "language", "facts", "appeal_until", "corrected_at", "correction")),
        "appeals": _items(
            session.scalars(select(Appeal).where(Appeal.statement_id.in_([s.id for s in statements])).order_by(Appeal.id)),
            ("filed_at", "text", "state", "outcome", "decision_reason", "decided_at"),
        ),
        "lawful_requests": _lawful_requests(session, account_id, withheld_requests),
        "restrictions": _items(
            session.scalars(select(Restriction).where(Restriction.account_id == account_id).order_by(Restriction.id)),
            ("since", "lifted_at"),
        ),
        "rights_requests": [
            {**item, "state": STATE_WORDS[item["state"]]}
            for item in _items(
                session.scalars(select(RightsRequest).where(RightsRequest.account_id == account_id).order_by(RightsRequest.id)),
                ("kind", "received_at", "state", "told", "completed_at"),
            )
        ],
    }
    events = session.scalar(select(func.count()).select_from(HandledEvent).where(HandledEvent.actor == account_id)) or 0
    return {
        "account_id": account_id,
        "data_map_version": data_map.version,
        "events_handled": events,
        "sections": sections,
    }


def markdown(document: dict[str, Any]) -> str:
    """The export as a person reads it."""
    lines = [
        f"# The data Trustdesk holds about account {document['account_id']}",
        "",
        f"Events from your account that the detection pipeline handled: {document['events_handled']} "
        "(their content is kept only for a short time, then emptied).",
        "",
    ]
    for key, title in SECTIONS.items():
        items = document["sections"].get(key, [])
        lines += [f"## {title}", ""]
        if not items:
            lines += ["None.", ""]
            continue
        for n, item in enumerate(items, 1):
            lines.append(
                f"{n}. "
                + "; ".join(f"{k.replace('_', ' ')}: {_words(v)}" for k, v in item.items() if v not in (None, "", [], {}))
            )
        lines.append("")
    lines.append(f"Generated under the data map {document['data_map_version']}.")
    return "\n".join(lines) + "\n"


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    return str(value)
