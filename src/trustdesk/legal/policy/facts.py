"""The facts the engine reads, gathered from a checked request, its agency, its targets and
the platform; and their JSON form, kept with each decision so that a dry-run replays a past
request exactly as it was decided, without asking the platform again."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.legal.checks import CONFIDENTIALITY, LANGUAGE_CHECK, language_accepted
from trustdesk.legal.instruments import InstrumentCode, IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestTarget
from trustdesk.legal.policy.engine import RequestFacts, TargetFacts
from trustdesk.platform.port import DataCategory, Platform

# The sections whose words name the offence; the grounds are the authority's narrative and
# are not matched, so that a mention of an insult in a murder case does not trip a list.
OFFENCE_SECTIONS = ("offence", "legal_basis", "reasons")
SCOPE_ERRORS = {"scope:emergency", "scope:period", "scope:categories"}


def _failed(checklist: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in checklist if item.get("verdict") == "fail"]


def missing_elements(checklist: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(
        i["check"].removeprefix("element:")
        for i in _failed(checklist)
        if i.get("refusal_reason") == RefusalReason.INCOMPLETE
        and not i["check"].startswith("target:")
        and i["check"] != LANGUAGE_CHECK  # weighed as its own ground
    )


def confidentiality_until(request: LawfulRequest) -> datetime | None:
    """The end of the gag the order carries: a 2705(b) order's end date, or a national court
    order's confidentiality period (structured, YYYY-MM-DD)."""
    key = "end_date" if request.instrument == InstrumentCode.US_2705B_NDO else CONFIDENTIALITY
    return _date(request.elements.get(key, ""))


def _date(value: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value.strip()[:10]), time(), tzinfo=UTC)
    except ValueError:
        return None


def manifest_errors(checklist: list[dict[str, Any]]) -> tuple[str, ...]:
    """Scope errors other than categories the issuer may not order (the engine gates those)."""
    return tuple(
        i["note"]
        for i in _failed(checklist)
        if i["check"] in SCOPE_ERRORS - {"scope:categories"} and i.get("refusal_reason") == RefusalReason.MANIFEST_ERROR
    )


def held_for(
    platform: Platform, *, account_id: str, categories: frozenset[DataCategory], since: datetime | None, until: datetime | None
) -> frozenset[DataCategory]:
    """Which of the categories the platform holds for the account in the period. Only the
    'held' answer is kept: the records themselves are not read into the decision."""
    return frozenset(c for c in categories if platform.retrieve(account_id, c, since=since, until=until).held)


def gather(session: Session, *, request: LawfulRequest, platform: Platform | None) -> RequestFacts:
    agency = session.get(Agency, request.agency_id)
    assert agency is not None
    rows = session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id).order_by(RequestTarget.id))
    categories = frozenset(DataCategory(c) for c in request.categories)
    targets = tuple(_target(row, platform, categories, request) for row in rows)
    return RequestFacts(
        reference=request.reference,
        instrument=load_catalogue().get(request.instrument),
        issuer=IssuerKind(request.issuer_kind),
        country=agency.country,
        categories=categories,
        emergency=request.emergency,
        offence="\n".join(request.elements.get(k, "") for k in OFFENCE_SECTIONS),
        missing_elements=missing_elements(request.checklist),
        manifest_errors=manifest_errors(request.checklist),
        targets=targets,
        period_start=request.period_start,
        period_end=request.period_end,
        not_before=request.not_before,
        callback_pending=request.held,
        language=request.language,
        language_accepted=language_accepted(request.checklist),
        confidentiality_until=confidentiality_until(request),
    )


def _target(
    row: RequestTarget, platform: Platform | None, categories: frozenset[DataCategory], request: LawfulRequest
) -> TargetFacts:
    if not row.resolved or row.account_id is None:
        return TargetFacts(row.normalised, None)
    held = (
        None
        if platform is None
        else held_for(
            platform, account_id=row.account_id, categories=categories, since=request.period_start, until=request.period_end
        )
    )
    return TargetFacts(row.normalised, row.account_id, held)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_json(facts: RequestFacts) -> dict[str, Any]:
    return {
        "reference": facts.reference,
        "instrument": facts.instrument.code.value,
        "issuer": facts.issuer.value,
        "country": facts.country,
        "categories": sorted(c.value for c in facts.categories),
        "emergency": facts.emergency,
        "offence": facts.offence,
        "missing_elements": list(facts.missing_elements),
        "manifest_errors": list(facts.manifest_errors),
        "targets": [
            {"label": t.label, "account_id": t.account_id, "held": None if t.held is None else sorted(c.value for c in t.held)}
            for t in facts.targets
        ],
        "period_start": _time(facts.period_start),
        "period_end": _time(facts.period_end),
        "not_before": _time(facts.not_before),
        "callback_pending": facts.callback_pending,
        "language": facts.language,
        "language_accepted": facts.language_accepted,
        "confidentiality_until": _time(facts.confidentiality_until),
    }


def from_json(raw: dict[str, Any]) -> RequestFacts:
    targets = tuple(
        TargetFacts(t["label"], t["account_id"], None if t["held"] is None else frozenset(DataCategory(c) for c in t["held"]))
        for t in raw["targets"]
    )
    return RequestFacts(
        reference=raw["reference"],
        instrument=load_catalogue().get(raw["instrument"]),
        issuer=IssuerKind(raw["issuer"]),
        country=raw["country"],
        categories=frozenset(DataCategory(c) for c in raw["categories"]),
        emergency=raw["emergency"],
        offence=raw["offence"],
        missing_elements=tuple(raw["missing_elements"]),
        manifest_errors=tuple(raw["manifest_errors"]),
        targets=targets,
        period_start=_parse_time(raw["period_start"]),
        period_end=_parse_time(raw["period_end"]),
        not_before=_parse_time(raw["not_before"]),
        callback_pending=raw["callback_pending"],
        language=raw.get("language", "en"),
        language_accepted=raw.get("language_accepted", True),
        confidentiality_until=_parse_time(raw.get("confidentiality_until")),
    )
