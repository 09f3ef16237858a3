"""Checking a request against its instrument. Each check is one line of a checklist with a
verdict and, where it fails, the Annex III reason that goes back to the authority.

Pure: it reads the instrument, the request's parts and the target resolutions, and decides
nothing else. Policy (issue 4) builds on the checklist; it does not redo it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from trustdesk.legal.instruments import Action, EnforcingStateRule, Instrument, IssuerKind, RefusalReason
from trustdesk.legal.targets import Resolution, Target
from trustdesk.platform.port import DataCategory

LANGUAGE_CHECK = "language"
CONFIDENTIALITY = "confidentiality_until"  # a national court order's structured gag period


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ATTENTION = "attention"  # not a failure: a reviewer must look before deciding
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class CheckItem:
    check: str
    verdict: Verdict
    note: str
    refusal_reason: RefusalReason | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "verdict": self.verdict.value,
            "refusal_reason": self.refusal_reason and self.refusal_reason.value,
        }


@dataclass(frozen=True)
class RequestParts:
    """What the checks read from one request."""

    instrument: Instrument
    issuer_kind: IssuerKind
    categories: frozenset[DataCategory]
    elements: dict[str, str]
    emergency: bool
    period_start: datetime | None
    period_end: datetime | None
    targets: list[tuple[Target, Resolution]]
    enforcing_state_notified: bool = False
    language: str = "en"
    # The languages the provider accepts (the discovery document's); empty: not checked.
    accepted_languages: frozenset[str] = frozenset()
    translated_to: str | None = None
    # True where intake computed the rule from structured places (enforcing.py), not a flag.
    enforcing_state_computed: bool = False


def _issuer_name(kind: IssuerKind) -> str:
    """'an investigating judge', 'a court': how the checklist names the issuer."""
    words = kind.value.replace("_", " ")
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def _ok(check: str, note: str) -> CheckItem:
    return CheckItem(check, Verdict.PASS, note)


def _fail(check: str, note: str, reason: RefusalReason) -> CheckItem:
    return CheckItem(check, Verdict.FAIL, note, reason)


def check_elements(parts: RequestParts) -> list[CheckItem]:
    """One line per required element of the instrument's form."""
    items = []
    for section in parts.instrument.sections:
        present = bool(parts.elements.get(section.key, "").strip())
        if present:
            items.append(_ok(f"element:{section.key}", f"{section.label('en')}: given"))
        elif section.required:
            items.append(_fail(f"element:{section.key}", f"{section.label('en')}: missing", RefusalReason.INCOMPLETE))
    return items


def check_issuer(parts: RequestParts) -> list[CheckItem]:
    """The issuer must be competent for every category asked (e-Evidence: a prosecutor may
    not order traffic or content data) or, for orders without data, for the instrument."""
    instrument, issuer = parts.instrument, parts.issuer_kind
    if not parts.categories:
        if issuer in instrument.issued_by:
            return [_ok("issuer", f"{_issuer_name(issuer)} may issue a {instrument.name}")]
        return [_fail("issuer", f"{_issuer_name(issuer)} may not issue a {instrument.name}", RefusalReason.MANIFEST_ERROR)]
    items = []
    for category in sorted(parts.categories):
        if instrument.may_issue(issuer, category):
            items.append(_ok(f"issuer:{category.value}", f"{_issuer_name(issuer)} may order {category.value} data"))
        else:
            allowed = ", ".join(sorted(k.value for k in instrument.issuers.get(category, ()))) or "nobody under this instrument"
            items.append(
                _fail(
                    f"issuer:{category.value}",
                    f"{_issuer_name(issuer)} may not order {category.value} data (only: {allowed})",
                    RefusalReason.MANIFEST_ERROR,
                )
            )
    return items


def check_scope(parts: RequestParts) -> list[CheckItem]:
    """No wider than the instrument: only its categories, emergency only where it has one,
    and a time range for traffic and content."""
    instrument, items = parts.instrument, []
    outside = parts.categories - instrument.categories
    if outside:
        items.append(
            _fail(
                "scope:categories",
                f"{instrument.name} cannot ask for {', '.join(sorted(c.value for c in outside))} data",
                RefusalReason.MANIFEST_ERROR,
            )
        )
    elif instrument.action is Action.PRESERVE and not parts.categories:
        items.append(
            _ok("scope:categories", "no category named: everything the instrument covers is preserved, nothing produced")
        )
    elif instrument.action is Action.PRODUCE and not parts.categories and parts.elements.get(CONFIDENTIALITY, "").strip():
        items.append(_ok("scope:categories", "an order of confidentiality only: no data asked"))
    elif instrument.action is Action.PRODUCE and not parts.categories:
        items.append(_fail("scope:categories", "no data category asked", RefusalReason.INCOMPLETE))
    else:
        items.append(_ok("scope:categories", "within the instrument"))
    if parts.emergency and not instrument.emergency_allowed:
        items.append(_fail("scope:emergency", f"{instrument.name} has no emergency procedure", RefusalReason.MANIFEST_ERROR))
    items.append(_check_period(parts))
    items.extend(_check_enforcing_state(parts))
    return items


def _check_enforcing_state(parts: RequestParts) -> list[CheckItem]:
    """e-Evidence Art. 8: traffic and content orders are notified to the enforcing state
    unless offence and person are both in the issuing state; an order that neither notifies
    nor says where they are needs a reviewer's attention (it is not failed outright: the
    issuer may have notified without ticking the box; staff ask in a message)."""
    if parts.instrument.enforcing_state_rule is not EnforcingStateRule.NOTIFY_FOR_TRAFFIC_CONTENT_UNLESS_DOMESTIC:
        return []
    if not parts.categories & {DataCategory.TRAFFIC, DataCategory.CONTENT}:
        return [CheckItem("enforcing_state", Verdict.NOT_APPLICABLE, "no traffic or content data asked: no notification needed")]
    if parts.enforcing_state_notified:
        return [_ok("enforcing_state", "the enforcing state was notified: its objection period applies")]
    if parts.elements.get("offence_location", "").strip() or parts.enforcing_state_computed:
        return [_ok("enforcing_state", "not notified: offence and person are both in the issuing State (Art. 8(2))")]
    return [
        CheckItem(
            "enforcing_state",
            Verdict.ATTENTION,
            "traffic or content asked, enforcing state not notified, and no statement that the case is domestic: ask the issuer",
        )
    ]


def _check_period(parts: RequestParts) -> CheckItem:
    heavy = parts.categories & {DataCategory.TRAFFIC, DataCategory.CONTENT}
    if parts.period_start and parts.period_end and parts.period_start > parts.period_end:
        return _fail("scope:period", "the period ends before it starts", RefusalReason.MANIFEST_ERROR)
    if heavy and not (parts.period_start and parts.period_end) and parts.instrument.action is Action.PRODUCE:
        return _fail("scope:period", "traffic or content data need a time range", RefusalReason.INCOMPLETE)
    return CheckItem(
        "scope:period",
        Verdict.PASS if parts.period_start else Verdict.NOT_APPLICABLE,
        "time range given" if parts.period_start else "no time range",
    )


def check_targets(parts: RequestParts) -> list[CheckItem]:
    items = []
    for target, resolution in parts.targets:
        name = f"target:{target.kind.value}:{target.normalised}"
        if resolution.resolved:
            items.append(_ok(name, f"resolved to account {resolution.account_id}"))
        else:
            items.append(_fail(name, resolution.note or "not found", RefusalReason.NOT_HELD))
    return items


def check_language(parts: RequestParts) -> list[CheckItem]:
    """The order must be in, or its core elements translated into, a language the provider
    accepts (DSA Arts. 9(2)(c), 10(2)(c); Reg. 2023/1543 Arts. 4-5 with the certificates'
    language rule, Art. 9: a language the provider declared). Until then it is not decided:
    the authority is asked for the translation."""
    if not parts.accepted_languages:
        return []
    accepted = ", ".join(sorted(parts.accepted_languages))
    if parts.language in parts.accepted_languages:
        return [_ok(LANGUAGE_CHECK, f"the order is in an accepted language ({parts.language})")]
    if parts.translated_to in parts.accepted_languages:
        return [
            _ok(LANGUAGE_CHECK, f"the order is in {parts.language}; its core elements were supplied in {parts.translated_to}")
        ]
    note = f"the order is in {parts.language}, which the provider does not accept ({accepted}): supply its core elements in one of them"
    return [_fail(LANGUAGE_CHECK, note, RefusalReason.INCOMPLETE)]


def language_accepted(checklist: list[dict[str, Any]]) -> bool:
    """False while the language check fails: the order is in a language the provider does
    not accept and no translation of its core elements has come."""
    return not any(i["check"] == LANGUAGE_CHECK and i.get("verdict") == Verdict.FAIL.value for i in checklist)


def run_checks(parts: RequestParts) -> list[CheckItem]:
    return [
        *check_language(parts),
        *check_elements(parts),
        *check_issuer(parts),
        *check_scope(parts),
        *check_targets(parts),
    ]


def overall(items: list[CheckItem]) -> Verdict:
    return Verdict.FAIL if any(i.verdict is Verdict.FAIL for i in items) else Verdict.PASS
