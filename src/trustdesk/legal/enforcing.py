"""The enforcing-state rule of Regulation (EU) 2023/1543, computed from structured facts.

Art. 8(1): where a European Production Order concerns traffic data (other than data
requested for the sole purpose of identifying the user) or content data, the issuing
authority notifies the enforcing authority, unless it has reasonable grounds to believe
that the offence has been, is being or is likely to be committed in the issuing State *and*
that the person whose data are sought resides there (Art. 8(2)). Art. 3(9)-(10): the
enforcing State is the Member State where the designated establishment or legal
representative that received the order is located, not where the person lives.

Pure: intake, the staff console and the e-Evidence channel call `rule` with codes, never
with free text. "unknown" is a fact too: an unknown place is not the issuing State, so it
notifies (the exception needs both)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import EnforcingStateRule, Instrument
from trustdesk.platform.port import DataCategory

UNKNOWN = "unknown"
CONTACT_POINT = Path(__file__).parent / "data" / "contact_point.toml"
NOTIFIED_CATEGORIES = frozenset({DataCategory.TRAFFIC, DataCategory.CONTENT})


@dataclass(frozen=True)
class EnforcingState:
    """The rule's answer: whether the enforcing State must be notified, which one, and why
    (the reason is shown to staff and written to the audit log)."""

    notify: bool
    state: str | None
    reason: str


def country_fact(value: str | None, *, field: str) -> str:
    """A place as intake stores it: an ISO 3166-1 alpha-2 code in capitals, or "unknown"
    (also for an empty answer). Anything else is refused, so that no free text decides."""
    text = (value or "").strip()
    if not text or text.lower() == UNKNOWN:
        return UNKNOWN
    if len(text) != 2 or not (text.isascii() and text.isalpha()) or pycountry.countries.get(alpha_2=text.upper()) is None:
        raise InvalidInput(f"{field} must be an ISO 3166-1 alpha-2 country code (like FR) or 'unknown'; got '{text[:20]}'.")
    return text.upper()


@cache
def establishment_state() -> str:
    """The Member State of the provider's designated establishment (contact_point.toml)."""
    with CONTACT_POINT.open("rb") as fh:
        return str(tomllib.load(fh)["establishment_country"]).upper()


def rule(
    instrument: Instrument,
    *,
    categories: Iterable[DataCategory],
    issuing_state: str,
    person_country: str,
    offence_country: str,
    received_by: str | None = None,
) -> EnforcingState:
    """Art. 8 from the facts. `received_by` is the Member State of the establishment or legal
    representative the order reached (each WISP identity has its own); by default the
    provider's designated establishment."""
    issuing = issuing_state.upper()
    enforcing = (received_by or establishment_state()).upper()
    if instrument.enforcing_state_rule is not EnforcingStateRule.NOTIFY_FOR_TRAFFIC_CONTENT_UNLESS_DOMESTIC:
        return EnforcingState(False, None, f"{instrument.name} has no enforcing-state notification")
    asked = NOTIFIED_CATEGORIES & set(categories)
    if not asked:
        return EnforcingState(False, None, "only subscriber or identification data: no notification (Art. 8(1))")
    if enforcing == issuing:
        return EnforcingState(False, None, f"the order was received in the issuing State ({issuing}) itself")
    if person_country == issuing and offence_country == issuing:
        return EnforcingState(False, None, f"offence and person are both in the issuing State {issuing} (Art. 8(2))")
    where = f"person: {person_country}, offence: {offence_country}, issuing State: {issuing}"
    names = ", ".join(sorted(c.value for c in asked))
    return EnforcingState(
        True, enforcing, f"{names} asked and not both in the issuing State ({where}): notify {enforcing} (Art. 8)"
    )
