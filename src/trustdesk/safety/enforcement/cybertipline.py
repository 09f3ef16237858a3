"""CyberTipline report drafts (18 U.S.C. 2258A) for apparent child sexual exploitation: one
draft per offending account, gathering what 2258A(b) names, with the media copied and kept
for one year (2258A(h), as amended by the REPORT Act 2024). Trustdesk never sends a report:
a person files it with NCMEC and records the report number here."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.platform.port import DataCategory, Platform
from trustdesk.safety.enforcement.models import CyberTiplineReport, EnforcementAction, PreservedMedia, TiplineState

PRESERVE_FOR = timedelta(days=365)
INCIDENT_TYPE = {
    "child_sexual_exploitation": "Child Pornography (possession, manufacture, and distribution)",
    "grooming": "Online Enticement of Children for Sexual Acts",
}


def draft_for(
    session: Session, *, actor: Actor, clock: Clock, platform: Platform, action: EnforcementAction
) -> CyberTiplineReport:
    """Add this action's evidence to the account's open draft, or start one."""
    report = session.scalars(
        select(CyberTiplineReport).where(
            CyberTiplineReport.account_id == action.account_id, CyberTiplineReport.state == TiplineState.DRAFT
        )
    ).first()
    if report is None:
        report = CyberTiplineReport(
            account_id=action.account_id,
            state=TiplineState.DRAFT.value,
            fields=_person_fields(platform, action.account_id or ""),
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(report)
        session.flush()
    fields = dict(report.fields)
    fields["incidents"] = [*fields.get("incidents", []), _incident(platform, action)]
    report.fields, report.updated_at = fields, clock.now()
    _preserve(session, clock=clock, platform=platform, report=report, action=action)
    record(
        session,
        actor=actor,
        clock=clock,
        action="cybertipline.draft",
        object_type="cybertipline_report",
        object_id=report.id,
        details={"account_id": action.account_id, "action_id": action.id},
    )
    return report


def _person_fields(platform: Platform, account_id: str) -> dict[str, Any]:
    """2258A(b)(1) the individual and (b)(3) geographic location, as the platform holds them."""
    account = platform.get_account(account_id)
    logins = platform.retrieve(account_id, DataCategory.IDENTIFICATION).records[-10:]
    return {
        "reported_person": {
            "account_id": account.id,
            "screen_name": account.username,
            "display_name": account.display_name,
            "email": account.email,
            "phone": account.phone,
            "registered_at": account.created_at.isoformat(),
        },
        "geographic_location": {"country": account.country, "ip_logins": logins},
        "incidents": [],
    }


def _incident(platform: Platform, action: EnforcementAction) -> dict[str, Any]:
    """2258A(b)(2) historical reference (when and how it was sent, time zone) and (b)(5) the
    complete communication around it."""
    incident: dict[str, Any] = {
        "type": INCIDENT_TYPE.get(action.policy, action.policy),
        "action_id": action.id,
        "detected_by": action.source,
        "acted_at": action.acted_at.isoformat(),
        "time_zone": "UTC",
    }
    if action.subject_kind == "message":
        message = platform.get_message(action.subject_id)
        incident.update(
            message_id=message.id,
            chat_id=message.chat_id,
            sent_at=message.sent_at.isoformat(),
            communication=[
                {"id": m.id, "sender_id": m.sender_id, "sent_at": m.sent_at.isoformat(), "text": m.text}
                for m in platform.chat_context(message.id, before=5, after=5)
            ],
        )
    return incident


def _preserve(
    session: Session, *, clock: Clock, platform: Platform, report: CyberTiplineReport, action: EnforcementAction
) -> None:
    """2258A(b)(4) the visual depictions: copied now, before the platform may delete them."""
    if action.subject_kind != "message":
        return
    for item in platform.get_message(action.subject_id).media:
        meta, data = platform.get_media(item.id)
        session.add(
            PreservedMedia(
                report_id=report.id,
                action_id=action.id,
                media_id=meta.id,
                message_id=action.subject_id,
                content_type=meta.content_type,
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                preserved_at=clock.now(),
                preserve_until=clock.now() + PRESERVE_FOR,
            )
        )
    session.flush()


def filing_queue(session: Session) -> list[CyberTiplineReport]:
    query = select(CyberTiplineReport).where(CyberTiplineReport.state == TiplineState.DRAFT)
    return list(session.scalars(query.order_by(CyberTiplineReport.created_at)))


def get_report(session: Session, *, report_id: int) -> CyberTiplineReport:
    report = session.get(CyberTiplineReport, report_id)
    if report is None:
        raise NotFound(f"No CyberTipline report draft {report_id}.")
    return report


def mark_filed(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, report_id: int, ncmec_report_id: str
) -> CyberTiplineReport:
    """Record that a person filed the report with NCMEC, by hand, under this number."""
    authorize(principal, Permission.CYBERTIPLINE_FILE)
    report = get_report(session, report_id=report_id)
    if report.state != TiplineState.DRAFT:
        raise Conflict(f"Report {report_id} was already filed as {report.ncmec_report_id}.")
    number = ncmec_report_id.strip()
    if not number.isdigit() or len(number) > 20:
        raise InvalidInput("Enter the CyberTipline report number NCMEC gave (digits only).", field="ncmec_report_id")
    report.state, report.filed_at, report.filed_by, report.ncmec_report_id = (
        TiplineState.FILED.value,
        clock.now(),
        str(actor),
        number,
    )
    record(
        session,
        actor=actor,
        clock=clock,
        action="cybertipline.filed",
        object_type="cybertipline_report",
        object_id=report.id,
        details={"ncmec_report_id": number},
    )
    return report
