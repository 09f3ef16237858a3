"""Statements of reasons: what the affected user is told (Art. 17 DSA, rendered in their
language from `statement_templates/*.toml`) and what the DSA Transparency Database receives
(Art. 24(5)), both built from the same facts so that they cannot disagree."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.safety.enforcement.actions import END_DATE_FIELD, SPECS, ActionKind, Source
from trustdesk.safety.enforcement.dsa import MAX_EXPLANATION, MAX_FACTS, MAX_SHORT
from trustdesk.safety.enforcement.policies import Policy, PolicyBook

TEMPLATES = Path(__file__).with_name("statement_templates")
LANGUAGES = ("en", "de", "fr")
# Language of the statement by the account's country; English where we have no template.
COUNTRY_LANGUAGE = {"DE": "de", "AT": "de", "LI": "de", "FR": "fr", "BE": "fr", "LU": "fr", "CH": "de"}
SOURCE_TYPE = {
    Source.NOTICE: "SOURCE_ARTICLE_16",
    Source.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Source.LEGAL: "SOURCE_TYPE_OTHER_NOTIFICATION",
    Source.RULE: "SOURCE_VOLUNTARY",
    Source.HASH_MATCH: "SOURCE_VOLUNTARY",
    Source.OWN_INITIATIVE: "SOURCE_VOLUNTARY",
}
_jinja = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Subject:
    """What was acted on, as the statement describes it."""

    kind: str
    id: str
    account_id: str | None
    country: str | None
    content_types: tuple[str, ...]
    content_date: date
    description: str  # in English, for the DSA database
    ref: str = ""  # how the user knows it: message id, @username, chat title
    when: str = ""


@dataclass(frozen=True)
class Facts:
    action: ActionKind
    policy: Policy
    book: PolicyBook
    subject: Subject
    source: Source
    automated: bool
    reason: str
    legal_ground: str | None
    territorial_scope: list[str] | None
    until: datetime | None
    acted_on: date
    source_identity: str | None = None


def language_for(country: str | None) -> str:
    return COUNTRY_LANGUAGE.get((country or "").upper(), "en")


def automated_detection(facts: Facts) -> bool:
    return facts.automated or facts.source in (Source.RULE, Source.HASH_MATCH)


def automated_decision(facts: Facts) -> str:
    """Fully when no person decided; partly when a machine found it and a person decided."""
    if facts.automated:
        return "AUTOMATED_DECISION_FULLY"
    return "AUTOMATED_DECISION_PARTIALLY" if automated_detection(facts) else "AUTOMATED_DECISION_NOT_AUTOMATED"


def dsa_payload(facts: Facts, *, puid: str) -> dict[str, Any]:
    """The statement exactly as the DSA database's API takes it."""
    payload: dict[str, Any] = {
        "puid": puid,
        **SPECS[facts.action].dsa,
        **_ground(facts),
        "category": facts.policy.category,
        "category_specification": list(facts.policy.keywords),
        "content_type": list(facts.subject.content_types),
        "content_date": facts.subject.content_date.isoformat(),
        "application_date": facts.acted_on.isoformat(),
        "decision_facts": _decision_facts(facts),
        "source_type": SOURCE_TYPE[facts.source],
        "automated_detection": "Yes" if automated_detection(facts) else "No",
        "automated_decision": automated_decision(facts),
        "territorial_scope": sorted(facts.territorial_scope or eea_countries()),
        "decision_ground_reference_url": facts.book.reference_url,
    }
    if "CONTENT_TYPE_OTHER" in payload["content_type"]:
        payload["content_type_other"] = f"{facts.subject.kind} on a messaging service"
    if facts.source is Source.TRUSTED_FLAGGER and facts.source_identity:
        payload["source_identity"] = facts.source_identity[:MAX_SHORT]
    if facts.until is not None and facts.action in END_DATE_FIELD:
        payload[END_DATE_FIELD[facts.action]] = facts.until.date().isoformat()
    return payload


def _ground(facts: Facts) -> dict[str, str]:
    if facts.legal_ground:
        return {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": facts.legal_ground[:MAX_SHORT],
            "illegal_content_explanation": facts.reason[:MAX_EXPLANATION],
        }
    return {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": f"{facts.policy.title} ({facts.book.reference_url}#{facts.policy.key})"[:MAX_SHORT],
        "incompatible_content_explanation": facts.reason[:MAX_EXPLANATION],
        "incompatible_content_illegal": "Yes" if facts.policy.illegal else "No",
    }


def _decision_facts(facts: Facts) -> str:
    origin = {
        Source.NOTICE: "a notice from a user (Art. 16 DSA)",
        Source.TRUSTED_FLAGGER: "a notice from a trusted flagger (Art. 22 DSA)",
        Source.LEGAL: "an order or request from an authority",
        Source.RULE: "an automated detection rule",
        Source.HASH_MATCH: "a match against a list of known illegal media",
        Source.OWN_INITIATIVE: "the provider's own review",
    }[facts.source]
    text = f"{facts.subject.description} was found through {origin}. Policy: {facts.policy.title}. {facts.reason}"
    return text[:MAX_FACTS]


def user_facts(facts: Facts, *, appeal_until: datetime, puid: str) -> dict[str, Any]:
    """What the template needs, as plain JSON, stored with the statement so that it renders
    the same in any language later."""
    return {
        "action": facts.action.value,
        "subject_kind": facts.subject.kind,
        "subject_ref": facts.subject.ref,
        "subject_when": facts.subject.when,
        "policy": facts.policy.title,
        "policy_url": f"{facts.book.reference_url}#{facts.policy.key}",
        "policy_version": facts.book.version,
        "legal_ground": facts.legal_ground,
        "reason": facts.reason,
        "source": facts.source.value,
        "automated_detection": automated_detection(facts),
        "automated_decision": facts.automated,
        "territorial_scope": sorted(facts.territorial_scope) if facts.territorial_scope else None,
        "until": facts.until.isoformat() if facts.until else None,
        "acted_on": facts.acted_on.isoformat(),
        "appeal_until": appeal_until.date().isoformat(),
        "puid": puid,
    }


@cache
def template(language: str) -> dict[str, Any]:
    return tomllib.loads((TEMPLATES / f"{language}.toml").read_text(encoding="utf-8"))


def render(facts: dict[str, Any], *, language: str, appeal_url: str, correction: str | None = None) -> list[tuple[str, str]]:
    """The statement as (heading, paragraph) pairs in `language` (English if unknown)."""
    strings = template(language if language in LANGUAGES else "en")
    subject = _jinja.from_string(strings["subjects"][facts["subject_kind"]]).render(facts)
    context = {
        **facts,
        "subject": subject,
        "action_label": strings["actions"][facts["action"]],
        "appeal_url": appeal_url,
        "source_label": strings["sources"][facts["source"]],
        "correction": correction,
    }
    sections = [(s["heading"], _jinja.from_string(s["text"]).render(context).strip()) for s in strings["sections"]]
    return [(heading, text) for heading, text in sections if text]
