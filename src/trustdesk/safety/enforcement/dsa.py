"""The EU DSA Transparency Database's statement of reasons: its closed value sets, with the
database's own names, and the rules its API enforces (Art. 24(5) DSA).

Both the statement builder (which checks every statement before the platform acts) and the
in-memory twin of the database (`trustdesk.core.dsa_database.memory`, which the API's test
double in `tests/doubles/dsa_database.py` answers through) call `validate_statement`, so that
what Trustdesk produces and what the twin and the double accept are judged by one set of rules.
Source: repository digital-services-act/transparency-database, `app/Models/Statement.php`
and the API documentation at transparency.dsa.ec.europa.eu/page/api-documentation (2026).
`tests/safety/enforcement/test_dsa.py` checks the enums against the conformance copy."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from trustdesk.legal.policy.jurisdictions import eea_countries


class AccountType(StrEnum):
    ACCOUNT_TYPE_BUSINESS = "ACCOUNT_TYPE_BUSINESS"
    ACCOUNT_TYPE_PRIVATE = "ACCOUNT_TYPE_PRIVATE"


class SourceType(StrEnum):
    SOURCE_ARTICLE_16 = "SOURCE_ARTICLE_16"
    SOURCE_TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER"
    SOURCE_TYPE_OTHER_NOTIFICATION = "SOURCE_TYPE_OTHER_NOTIFICATION"
    SOURCE_VOLUNTARY = "SOURCE_VOLUNTARY"


class ContentType(StrEnum):
    CONTENT_TYPE_APP = "CONTENT_TYPE_APP"
    CONTENT_TYPE_AUDIO = "CONTENT_TYPE_AUDIO"
    CONTENT_TYPE_IMAGE = "CONTENT_TYPE_IMAGE"
    CONTENT_TYPE_PRODUCT = "CONTENT_TYPE_PRODUCT"
    CONTENT_TYPE_SYNTHETIC_MEDIA = "CONTENT_TYPE_SYNTHETIC_MEDIA"
    CONTENT_TYPE_TEXT = "CONTENT_TYPE_TEXT"
    CONTENT_TYPE_VIDEO = "CONTENT_TYPE_VIDEO"
    CONTENT_TYPE_OTHER = "CONTENT_TYPE_OTHER"


class YesNo(StrEnum):
    """`automated_detection` and `incompatible_content_illegal` take these two words."""

    YES = "Yes"
    NO = "No"


class AutomatedDecision(StrEnum):
    AUTOMATED_DECISION_FULLY = "AUTOMATED_DECISION_FULLY"
    AUTOMATED_DECISION_PARTIALLY = "AUTOMATED_DECISION_PARTIALLY"
    AUTOMATED_DECISION_NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


class DecisionGround(StrEnum):
    DECISION_GROUND_ILLEGAL_CONTENT = "DECISION_GROUND_ILLEGAL_CONTENT"
    DECISION_GROUND_INCOMPATIBLE_CONTENT = "DECISION_GROUND_INCOMPATIBLE_CONTENT"


class DecisionVisibility(StrEnum):
    DECISION_VISIBILITY_CONTENT_REMOVED = "DECISION_VISIBILITY_CONTENT_REMOVED"
    DECISION_VISIBILITY_CONTENT_DISABLED = "DECISION_VISIBILITY_CONTENT_DISABLED"
    DECISION_VISIBILITY_CONTENT_DEMOTED = "DECISION_VISIBILITY_CONTENT_DEMOTED"
    DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
    DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
    DECISION_VISIBILITY_CONTENT_LABELLED = "DECISION_VISIBILITY_CONTENT_LABELLED"
    DECISION_VISIBILITY_OTHER = "DECISION_VISIBILITY_OTHER"


class DecisionMonetary(StrEnum):
    DECISION_MONETARY_SUSPENSION = "DECISION_MONETARY_SUSPENSION"
    DECISION_MONETARY_TERMINATION = "DECISION_MONETARY_TERMINATION"
    DECISION_MONETARY_OTHER = "DECISION_MONETARY_OTHER"


class DecisionProvision(StrEnum):
    DECISION_PROVISION_PARTIAL_SUSPENSION = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    DECISION_PROVISION_TOTAL_SUSPENSION = "DECISION_PROVISION_TOTAL_SUSPENSION"
    DECISION_PROVISION_PARTIAL_TERMINATION = "DECISION_PROVISION_PARTIAL_TERMINATION"
    DECISION_PROVISION_TOTAL_TERMINATION = "DECISION_PROVISION_TOTAL_TERMINATION"


class DecisionAccount(StrEnum):
    DECISION_ACCOUNT_SUSPENDED = "DECISION_ACCOUNT_SUSPENDED"
    DECISION_ACCOUNT_TERMINATED = "DECISION_ACCOUNT_TERMINATED"


StatementCategory = StrEnum(  # type: ignore[misc]
    "StatementCategory",
    {
        name: name
        for name in (
            "STATEMENT_CATEGORY_ANIMAL_WELFARE",
            "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
            "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "STATEMENT_CATEGORY_SELF_HARM",
            "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
            "STATEMENT_CATEGORY_VIOLENCE",
        )
    },
)

Keyword = StrEnum(  # type: ignore[misc]
    "Keyword",
    {
        name: name
        for name in (
            "KEYWORD_ADULT_SEXUAL_MATERIAL",
            "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
            "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
            "KEYWORD_ANIMAL_HARM",
            "KEYWORD_BIOMETRIC_DATA_BREACH",
            "KEYWORD_BULLYING_AGAINST_GIRLS",
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
            "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
            "KEYWORD_COORDINATED_HARM",
            "KEYWORD_COPYRIGHT_INFRINGEMENT",
            "KEYWORD_CYBER_BULLYING_INTIMIDATION",
            "KEYWORD_CYBER_HARASSMENT",
            "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
            "KEYWORD_CYBER_INCITEMENT",
            "KEYWORD_CYBER_STALKING",
            "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
            "KEYWORD_DATA_FALSIFICATION",
            "KEYWORD_DEFAMATION",
            "KEYWORD_DESIGN_INFRINGEMENT",
            "KEYWORD_DISCRIMINATION",
            "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
            "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
            "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
            "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
            "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
            "KEYWORD_HATE_SPEECH",
            "KEYWORD_HIDDEN_ADVERTISEMENT",
            "KEYWORD_HUMAN_EXPLOITATION",
            "KEYWORD_HUMAN_TRAFFICKING",
            "KEYWORD_ILLEGAL_ORGANIZATIONS",
            "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
            "KEYWORD_INAUTHENTIC_ACCOUNTS",
            "KEYWORD_INAUTHENTIC_LISTINGS",
            "KEYWORD_INAUTHENTIC_USER_REVIEWS",
            "KEYWORD_INCITEMENT_AGAINST_WOMEN",
            "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
            "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
            "KEYWORD_LANGUAGE_REQUIREMENTS",
            "KEYWORD_MISINFORMATION_DISINFORMATION",
            "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
            "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
            "KEYWORD_MISSING_PROCESSING_GROUND",
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
            "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
            "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
            "KEYWORD_NONCOMPLIANCE_PRICING",
            "KEYWORD_NUDITY",
            "KEYWORD_PATENT_INFRINGEMENT",
            "KEYWORD_PHISHING",
            "KEYWORD_PROHIBITED_PRODUCTS",
            "KEYWORD_PYRAMID_SCHEMES",
            "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
            "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
            "KEYWORD_RISK_PUBLIC_HEALTH",
            "KEYWORD_SELF_MUTILATION",
            "KEYWORD_STALKING",
            "KEYWORD_SUICIDE",
            "KEYWORD_TERRORIST_CONTENT",
            "KEYWORD_TRADE_SECRET_INFRINGEMENT",
            "KEYWORD_TRADEMARK_INFRINGEMENT",
            "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
            "KEYWORD_UNLAWFUL_SALE_ANIMALS",
            "KEYWORD_UNSAFE_CHALLENGES",
            "KEYWORD_UNSAFE_PRODUCTS",
            "KEYWORD_VIOLATION_EU_LAW",
            "KEYWORD_VIOLATION_NATIONAL_LAW",
            "KEYWORD_OTHER",
        )
    },
)

CONTENT_DATE_FROM, APPLICATION_DATE_FROM, DATE_UNTIL = date(2000, 1, 1), date(2020, 1, 1), date(2038, 1, 1)
MAX_FACTS, MAX_EXPLANATION, MAX_SHORT = 5000, 2000, 500
PUID = re.compile(r"^[a-zA-Z0-9_-]{1,500}$")
ISO_639_1 = re.compile(r"^[A-Z]{2}$")

Errors = dict[str, list[str]]
GROUND_FIELDS = {
    DecisionGround.DECISION_GROUND_ILLEGAL_CONTENT: ("illegal_content_legal_ground", "illegal_content_explanation"),
    DecisionGround.DECISION_GROUND_INCOMPATIBLE_CONTENT: ("incompatible_content_ground", "incompatible_content_explanation"),
}
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
OTHER_TEXT = {
    "decision_visibility": ("DECISION_VISIBILITY_OTHER", "decision_visibility_other"),
    "decision_monetary": ("DECISION_MONETARY_OTHER", "decision_monetary_other"),
    "content_type": ("CONTENT_TYPE_OTHER", "content_type_other"),
}
SINGLE_VALUES: dict[str, type[StrEnum]] = {
    "decision_ground": DecisionGround,
    "category": StatementCategory,
    "source_type": SourceType,
    "automated_detection": YesNo,
    "automated_decision": AutomatedDecision,
    "account_type": AccountType,
    "decision_monetary": DecisionMonetary,
    "decision_provision": DecisionProvision,
    "decision_account": DecisionAccount,
    "incompatible_content_illegal": YesNo,
}
ARRAY_VALUES: dict[str, type[StrEnum]] = {
    "content_type": ContentType,
    "decision_visibility": DecisionVisibility,
    "category_addition": StatementCategory,
    "category_specification": Keyword,
}
TEXT_LIMITS = {
    "decision_facts": MAX_FACTS,
    "illegal_content_legal_ground": MAX_SHORT,
    "illegal_content_explanation": MAX_EXPLANATION,
    "incompatible_content_ground": MAX_SHORT,
    "incompatible_content_explanation": MAX_EXPLANATION,
    "decision_visibility_other": MAX_SHORT,
    "decision_monetary_other": MAX_SHORT,
    "content_type_other": MAX_SHORT,
    "source_identity": MAX_SHORT,
    "category_specification_other": MAX_SHORT,
    "decision_ground_reference_url": MAX_SHORT,
}
END_DATES = (
    "end_date_account_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_visibility_restriction",
)
REQUIRED = (
    "decision_ground",
    "category",
    "content_type",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)


# Each date field with the earliest date the database takes for it.
_DATE_FIELDS: tuple[tuple[str, date], ...] = (
    ("content_date", CONTENT_DATE_FROM),
    ("application_date", APPLICATION_DATE_FROM),
    *((field, APPLICATION_DATE_FROM) for field in END_DATES),
)


def validate_statement(statement: dict[str, Any]) -> Errors:
    """Every rule the API publishes, as field -> messages; empty when the database would
    accept the statement. Never raises on odd input: a statement is data from outside."""
    errors: Errors = {}
    if not isinstance(statement, dict):
        return {"statement": ["must be a JSON object"]}
    for check in (_required, _values, _texts, _dates, _ground, _decisions, _others, _source, _scope):
        check(statement, errors)
    return errors


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _present(statement: dict[str, Any], field: str) -> bool:
    value = statement.get(field)
    return value is not None and value != "" and value != []


def _required(statement: dict[str, Any], errors: Errors) -> None:
    get = statement.get
    for field in REQUIRED:
        value = get(field)
        if value is None or value == "" or value == []:
            _add(errors, field, f"The {field.replace('_', ' ')} field is required.")
    puid = statement.get("puid")
    if _present(statement, "puid") and (not isinstance(puid, str) or not PUID.match(puid)):
        _add(errors, "puid", "The puid must be at most 500 characters of letters, digits, '-' and '_'.")


def _values(statement: dict[str, Any], errors: Errors) -> None:
    get = statement.get
    for field, allowed in _SINGLE_SETS:
        value = get(field)
        if value is not None and value not in allowed:
            _add(errors, field, f"The selected {field.replace('_', ' ')} is invalid.")
    for field, allowed in _ARRAY_SETS:
        value = get(field)
        if value is None:
            continue
        if not isinstance(value, list):
            _add(errors, field, f"The {field.replace('_', ' ')} must be an array.")
        elif any(item not in allowed for item in value) or len(set(value)) != len(value):
            _add(errors, field, f"The {field.replace('_', ' ')} holds an invalid or repeated value.")


@cache
def _values_of(enum: type[StrEnum]) -> frozenset[str]:
    return frozenset(member.value for member in enum)


# The value sets by field, made once (validation runs once per statement built and again in
# the database's twin: issue #22's benchmark measures it at a million statements).
_SINGLE_SETS = tuple((field, _values_of(enum)) for field, enum in SINGLE_VALUES.items())
_ARRAY_SETS = tuple((field, _values_of(enum)) for field, enum in ARRAY_VALUES.items())
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _texts(statement: dict[str, Any], errors: Errors) -> None:
    for field, limit in TEXT_LIMITS.items():
        value = statement.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            _add(errors, field, f"The {field.replace('_', ' ')} must be a string.")
        elif len(value) > limit:
            _add(errors, field, f"The {field.replace('_', ' ')} must not be greater than {limit} characters.")
    language = statement.get("content_language")
    if language is not None and (not isinstance(language, str) or not ISO_639_1.match(language)):
        _add(errors, "content_language", "The content language must be an ISO 639-1 code in capitals.")


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    return _parse_date_text(value)


@lru_cache(maxsize=8192)
def _parse_date_text(value: str) -> date | None:
    """A statement's dates repeat (the day of the decision, the day of the content): each
    distinct text is parsed once."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _dates(statement: dict[str, Any], errors: Errors) -> None:
    parsed_by_field: dict[str, date | None] = {}
    for field, lower in _DATE_FIELDS:
        value = statement.get(field)
        if value is None:
            continue
        parsed = parsed_by_field[field] = _parse_date(value)
        if parsed is None:
            _add(errors, field, f"The {field.replace('_', ' ')} must be a date in the form YYYY-MM-DD.")
        elif not lower <= parsed <= DATE_UNTIL:
            _add(errors, field, f"The {field.replace('_', ' ')} must be between {lower} and {DATE_UNTIL}.")
    content, applied = parsed_by_field.get("content_date"), parsed_by_field.get("application_date")
    if content and applied and content > applied:
        _add(errors, "content_date", "The content date must be a date before or equal to the application date.")


def _ground(statement: dict[str, Any], errors: Errors) -> None:
    ground = statement.get("decision_ground")
    if ground not in _values_of(DecisionGround):
        return
    needed, other = GROUND_FIELDS[DecisionGround(ground)], GROUND_FIELDS[_other_ground(DecisionGround(ground))]
    for field in needed:
        if not _present(statement, field):
            _add(errors, field, f"The {field.replace('_', ' ')} field is required when decision ground is {ground}.")
    for field in (*other, *(("incompatible_content_illegal",) if ground == "DECISION_GROUND_ILLEGAL_CONTENT" else ())):
        if field in statement:
            _add(
                errors,
                field,
                f"The {field.replace('_', ' ')} field is prohibited unless decision ground is {_other_ground(DecisionGround(ground))}.",
            )


def _other_ground(ground: DecisionGround) -> DecisionGround:
    if ground is DecisionGround.DECISION_GROUND_ILLEGAL_CONTENT:
        return DecisionGround.DECISION_GROUND_INCOMPATIBLE_CONTENT
    return DecisionGround.DECISION_GROUND_ILLEGAL_CONTENT


def _decisions(statement: dict[str, Any], errors: Errors) -> None:
    if not any(_present(statement, field) for field in DECISIONS):
        _add(errors, "decision_visibility", "At least one of decision visibility, monetary, provision or account is required.")


def _others(statement: dict[str, Any], errors: Errors) -> None:
    for field, (other_value, text_field) in OTHER_TEXT.items():
        value = statement.get(field)
        chosen = other_value in value if isinstance(value, list) else value == other_value
        if chosen and not _present(statement, text_field):
            _add(errors, text_field, f"The {text_field.replace('_', ' ')} field is required when {field} is {other_value}.")
        if not chosen and text_field in statement:
            _add(errors, text_field, f"The {text_field.replace('_', ' ')} field is prohibited unless {field} is {other_value}.")


def _source(statement: dict[str, Any], errors: Errors) -> None:
    if statement.get("source_type") == SourceType.SOURCE_VOLUNTARY and "source_identity" in statement:
        _add(errors, "source_identity", "The source identity field is prohibited when source type is SOURCE_VOLUNTARY.")


def _scope(statement: dict[str, Any], errors: Errors) -> None:
    scope = statement.get("territorial_scope")
    if scope is None:
        return
    countries = eea_countries()
    if not isinstance(scope, list) or any(code not in countries for code in scope):
        _add(errors, "territorial_scope", "The territorial scope must be an array of EU/EEA country codes.")
