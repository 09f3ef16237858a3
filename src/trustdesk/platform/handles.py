"""How people write usernames and phone numbers, and the one form the platform stores.

A reviewer pastes "@Some_User" or "+49 151-2345 6789" from a police request; the lookup must
find the account whatever the spacing, case or prefix. The platform's identifier rules: the
demo adapter stores by them, and the legal domain reads a request's targets with them."""

from __future__ import annotations

import re
from urllib.parse import unquote

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


# A link or handle as a member of the public copies it from the app: what it points at.
# Matrix: https://matrix.to/#/@user:server, https://matrix.to/#/!room:server/$event (or
# #alias:server/$event), and Element's https://app.element.io/#/room/!room:server/$event and
# #/user/@user:server. The demo messenger's share links: https://<host>/@username,
# /u/<username or id>, /m/<message id>, /c/<chat id>.
MATRIX_LINK = re.compile(r"^https?://[^/]+/(?:[^#]*)#/(?:(?:room|user)/)?(?P<rest>[^?]+)", re.IGNORECASE)
DEMO_LINK = re.compile(r"^https?://[^/]+/(?:(?P<kind>[umc])/(?P<ref>[^/?#]+)|@(?P<handle>[^/?#]+))/?(?:[?#].*)?$", re.IGNORECASE)


def parse_reference(raw: str) -> tuple[str, str] | None:
    """(kind, ref) for a link: kind is "account" (ref a username, handle or id), "message"
    or "chat" (ref the platform's id), or "alias" (a Matrix room alias, which names no single
    event). None when `raw` is not a link of a shape we know."""
    text = raw.strip()
    matrix = MATRIX_LINK.match(text)
    if matrix is not None:
        parts = [unquote(p) for p in matrix.group("rest").split("/") if p]
        if len(parts) >= 2 and parts[1].startswith("$"):
            return "message", parts[1]
        if parts and parts[0].startswith("@"):
            return "account", parts[0]
        if parts and parts[0].startswith("!"):
            return "chat", parts[0]
        if parts and parts[0].startswith("#"):
            return "alias", parts[0]
        return None
    demo = DEMO_LINK.match(text)
    if demo is None:
        return None
    if demo.group("handle"):
        return "account", unquote(demo.group("handle"))
    kind = {"u": "account", "m": "message", "c": "chat"}[demo.group("kind").lower()]
    return kind, unquote(demo.group("ref"))


def looks_like_link(raw: str) -> bool:
    return raw.strip().lower().startswith(("http://", "https://"))
