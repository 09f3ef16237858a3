"""Absolute links, per audience: the public pages, the authorities' portal and the staff
console may each live behind their own host. A configured base URL wins; in development,
with none set, a link follows the host the request was served on; with neither (CLI,
workers, the lane) it falls back to the development default, with a note in the log."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Protocol

from trustdesk.core.settings import DEV_BASE_URL, Settings

log = logging.getLogger(__name__)


class Audience(StrEnum):
    PUBLIC = "public"
    PORTAL = "portal"
    CONSOLE = "console"


class Served(Protocol):
    """What a served request tells: its own base URL (Starlette's `Request.base_url`)."""

    @property
    def base_url(self) -> object: ...


def base(settings: Settings, audience: Audience, request: Served | None = None) -> str:
    """The base URL (no trailing slash) that links for `audience` start with."""
    configured = {
        Audience.PUBLIC: settings.public_url,
        Audience.PORTAL: settings.portal_base_url or settings.public_url,
        Audience.CONSOLE: settings.console_base_url or settings.public_url,
    }[audience]
    if configured:
        return configured.rstrip("/")
    if request is not None and settings.environment != "production":
        return str(request.base_url).rstrip("/")
    log.info("no public_base_url set: links use the development default %s", DEV_BASE_URL)
    return DEV_BASE_URL


def absolute(settings: Settings, audience: Audience, path: str, request: Served | None = None) -> str:
    """`path` (starting with /) as an absolute link for `audience`."""
    return base(settings, audience, request) + path
