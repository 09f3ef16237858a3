"""The DSA Transparency Database (see `port`): `build_dsa_database(settings)` makes the HTTP
adapter when the dsa_database_url and dsa_database_token settings are both set, and None
otherwise (submission is refused). The in-memory twin (`memory`) is for tests and development."""

from __future__ import annotations

from trustdesk.core.dsa_database.http import HttpDsaDatabase
from trustdesk.core.dsa_database.memory import InMemoryDsaDatabase
from trustdesk.core.dsa_database.port import MAX_BATCH, NOT_UNIQUE, BatchOutcome, DsaDatabase
from trustdesk.core.settings import Settings


def build_dsa_database(settings: Settings, *, base_url: str | None = None) -> DsaDatabase | None:
    """`base_url` in place of the dsa_database_url setting (the CLI's `--endpoint`)."""
    base_url = base_url or settings.dsa_database_url
    token = settings.dsa_database_token.get_secret_value() if settings.dsa_database_token is not None else ""
    if not base_url or not token:
        return None
    return HttpDsaDatabase(base_url=base_url, token=token)


__all__ = [
    "MAX_BATCH",
    "NOT_UNIQUE",
    "BatchOutcome",
    "DsaDatabase",
    "HttpDsaDatabase",
    "InMemoryDsaDatabase",
    "build_dsa_database",
]
