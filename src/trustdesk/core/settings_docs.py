"""The configuration reference, written from the `Settings` class itself so that it cannot
drift: `trustdesk settings docs > docs/configuration.md`, and a test compares the two."""

from __future__ import annotations

from trustdesk.core.settings import Settings

HEADER = """# Configuration

Every setting is an environment variable with the prefix `TRUSTDESK_`, or a key of the
`[trustdesk]` table of a TOML file named by `TRUSTDESK_CONFIG` or `trustdesk --config FILE`.
The environment wins over the file. An unknown key is refused at start-up. In production
(`TRUSTDESK_ENVIRONMENT=production`) Trustdesk refuses to start on the development secret
key or with insecure cookies.

This page is generated: `trustdesk settings docs > docs/configuration.md`.

| variable | default | what it does |
| --- | --- | --- |
"""


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        return "`{}`"
    value = field.default
    if value is None:
        return "unset"
    if hasattr(value, "get_secret_value"):
        return "(development value)"
    return f"`{getattr(value, 'value', value)}`"


def reference() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        about = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `TRUSTDESK_{name.upper()}` | {_default(name)} | {about} |")
    return HEADER + "\n".join(rows) + "\n"
