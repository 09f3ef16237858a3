"""Jinja2 for the console and portal: one environment, autoescaped, with the filters every
page needs (times in the viewer's zone)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "web" / "templates"))
NAVIGATION = [
    ("requests", "Requests", "/console/requests"),
    ("policy", "Legal policy", "/console/legal/policy"),
    ("safety", "Safety", "/console/safety"),
    ("pipeline", "Pipeline", "/console/safety/pipeline"),
    ("review", "Review", "/console/review"),
    ("emergencies", "Emergencies", "/console/emergencies"),
    ("transparency", "Transparency", "/console/transparency"),
    ("audit", "Audit log", "/console/audit"),
    ("users", "Staff", "/console/users"),
]


def viewer_zone(request: Request) -> ZoneInfo:
    try:
        return ZoneInfo(request.cookies.get("td_tz", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    zone = viewer_zone(request)
    context.setdefault("principal", getattr(request.state, "principal", None))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"navigation": NAVIGATION, "zone": zone, "localtime": lambda v: local_time(v, zone), **context},
        status_code=status_code,
    )
