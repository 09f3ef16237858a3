"""The files of a report as bytes, each with its SHA-256: what the CLI writes, what a draft
snapshots and what publication freezes. HTML documents are rendered from the templates in
`web/templates/transparency/` by an environment of their own (no web code is imported):
self-contained pages with their styles and charts inline, readable offline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from trustdesk import __version__

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "web" / "templates"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",  # 65 characters (issue #22)
}


@dataclass(frozen=True)
class RenderedFile:
    name: str
    content: bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.name.rsplit(".", 1)[-1]]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["figure"] = lambda v, suffix="": "—" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v}{suffix}")
    return env


def render_html(template_name: str, **context: Any) -> bytes:
    return environment().get_template(template_name).render(trustdesk_version=__version__, **context).encode()


def category_label(code: str) -> str:
    """`STATEMENT_CATEGORY_SCAMS_AND_FRAUD` -> `Scams and fraud`."""
    if code == "ALL":
        return "All types"
    text = code.removeprefix("STATEMENT_CATEGORY_").replace("_", " ").lower()
    return text[:1].upper() + text[1:].replace(" tc", " (terms and conditions)")
