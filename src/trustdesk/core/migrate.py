"""Alembic, driven from code: `upgrade(url)` brings any database to the newest schema. Every
domain keeps its revisions in `core/migrations/versions` on its own branch label, so
domains can add tables without touching each other's history; `heads` applies them all."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)
