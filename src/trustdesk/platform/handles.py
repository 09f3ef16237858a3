"""How people write usernames and phone numbers, and the one form the platform stores.

A reviewer pastes "@Some_User" or "+49 151-2345 6789" from a police request; the lookup must
find the account whatever the spacing, case or prefix. The platform's identifier rules: the
demo adapter stores by them, and the legal domain reads a request's targets with them."""

from __future__ import annotations

import re

USERNAME = re.compile(r"[a-z0-9_]{3,32}")
USERNAME_NOISE = re.compile(r"^[\s@]+|\s+$")
PHONE_NOISE = re.compile(r"[\s\-.()/]")
E164_DIGITS = re.compile(r"[1-9][0-9]{6,14}")


def clean_username(raw: str) -> str:
    """Without surrounding space or leading '@'s: a username never holds '@', so a pasted
    "@@name" or "@ name" still means "name". Case is kept for display."""
    return USERNAME_NOISE.sub("", raw)


def username_key(raw: str) -> str:
    """The form lookups compare: clean and casefolded."""
    return clean_username(raw.casefold())


def valid_username(raw: str) -> bool:
    return USERNAME.fullmatch(username_key(raw)) is not None


def normalise_phone(raw: str) -> str | None:
    """E.164 ("+4915123456789") or None when `raw` cannot be a full international number.
    Accepts spaces, dashes, dots, brackets, slashes, a '00' international prefix, and
    digits without '+' (taken as already including the country code)."""
    compact = PHONE_NOISE.sub("", raw.strip())
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        digits = compact
    if E164_DIGITS.fullmatch(digits) is None:
        return None
    return f"+{digits}"
