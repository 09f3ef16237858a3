"""Settings are read from the environment in one place, `core/settings.py` (STYLE.md: one
`Settings` object, nothing reads the environment elsewhere). A module that reads `os.environ`
or `os.getenv`, or a CLI option that reads an environment variable itself, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import trustdesk
from trustdesk.core.settings import Settings

SOURCE = Path(trustdesk.__file__).parent
READS = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\bgetenv\(|\benviron\.get\(|\benvvar\s*=")
ALLOWED = {
    "core/settings.py": "builds Settings: TRUSTDESK_CONFIG names the file, and the environment wins over it",
    # The example platform is the other side of the webhook connector, a program of its own
    # (`python -m trustdesk.platform.webhook.example_server`) with no Trustdesk settings.
    "platform/webhook/example_server.py": "reads its own TD_WEBHOOK_SECRET",
}


def test_only_settings_read_the_environment() -> None:
    readers = {str(p.relative_to(SOURCE)) for p in SOURCE.rglob("*.py") if READS.search(p.read_text(encoding="utf-8"))}
    assert readers - set(ALLOWED) == set(), "read it through Settings (core/settings.py) instead"
    assert set(ALLOWED) <= readers, "an exception no longer needed: remove it from ALLOWED"


def test_the_dsa_database_is_configured_through_settings() -> None:
    settings = Settings(dsa_database_url="https://dsa.invalid", dsa_database_token="t0ken")
    assert settings.dsa_database_url == "https://dsa.invalid" and settings.dsa_database_token is not None
    assert settings.dsa_database_token.get_secret_value() == "t0ken" and "t0ken" not in repr(settings)
    assert Settings().dsa_database_url is None and Settings().dsa_database_token is None
