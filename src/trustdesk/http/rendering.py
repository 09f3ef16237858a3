"""Jinja2 for the console and portal: one environment, autoescaped, with the filters every
page needs (times in the viewer's zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from trustdesk.core.identity.permissions import Permission, Principal

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "web" / "templates"))
# Each area with the permission its landing page requires: the nav and the dashboard show a
# principal only the areas it opens (presentation only: the routes still check it).
NAVIGATION: list[tuple[str, str, str, Permission]] = [
    ("requests", "Requests", "/console/requests", Permission.REQUESTS_READ),
    ("policy", "Legal policy", "/console/legal/policy", Permission.REQUESTS_READ),
    ("safety", "Safety", "/console/safety", Permission.SAFETY_READ),
    ("pipeline", "Pipeline", "/console/safety/pipeline", Permission.SAFETY_READ),
    ("review", "Review", "/console/review", Permission.TRIAGE),
    ("quality", "Quality", "/console/quality", Permission.QUALITY_READ),
    ("emergencies", "Emergencies", "/console/emergencies", Permission.EMERGENCY_HANDLE),
    ("transparency", "Transparency", "/console/transparency", Permission.TRANSPARENCY_PUBLISH),
    ("privacy", "Privacy", "/console/privacy", Permission.PRIVACY_READ),
    ("audit", "Audit log", "/console/audit", Permission.AUDIT_READ),
    ("access", "Access log", "/console/access-log", Permission.AUDIT_READ),
    ("jobs", "Jobs", "/console/jobs", Permission.JOBS_READ),
    ("users", "Staff", "/console/users", Permission.USERS_MANAGE),
]


def navigation_for(principal: Principal | None) -> list[tuple[str, str, str]]:
    """The areas `principal` may open: (key, label, href) for the nav and the dashboard."""
    if principal is None:
        return []
    return [(key, label, href) for key, label, href, permission in NAVIGATION if principal.can(permission)]


def viewer_zone(request: Request) -> ZoneInfo:
    try:
        return ZoneInfo(request.cookies.get("td_tz", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def time_element(value: datetime | None, zone: ZoneInfo) -> Markup:
    """An instant as people read it: in the viewer's zone, with the exact UTC time on hover
    and machine-readable in `datetime` (issue #18)."""
    if value is None:
        return Markup("—")
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(
        utc.isoformat(timespec="seconds"), utc.strftime("%Y-%m-%d %H:%M:%S"), local_time(value, zone)
    )


def duration_words(value: timedelta | float | int | None) -> str:
    """A duration in words, to the unit that matters: "9 days", "3 hours", "45 minutes"
    ("overdue by 2 hours" is the caller's sentence around it)."""
    if value is None:
        return "—"
    seconds = abs(value.total_seconds() if isinstance(value, timedelta) else float(value))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def date_input(value: date | datetime | None) -> str:
    """The value of an `<input type="date">`: YYYY-MM-DD, or empty."""
    if value is None:
        return ""
    return (value.astimezone(UTC).date() if isinstance(value, datetime) else value).isoformat()


# One filter set for every page (issue #18): {{ x|duration }}, {{ d|dateinput }}.
TEMPLATES.env.filters["duration"] = duration_words
TEMPLATES.env.filters["dateinput"] = date_input


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    zone = viewer_zone(request)
    context.setdefault("principal", getattr(request.state, "principal", None))
    principal = context["principal"]
    navigation = navigation_for(principal) if isinstance(principal, Principal) else []
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"navigation": navigation, "zone": zone, "localtime": lambda v: time_element(v, zone), **context},
        status_code=status_code,
    )
