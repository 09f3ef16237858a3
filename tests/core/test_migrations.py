from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from trustdesk.core import migrate
from trustdesk.core.database import import_all_models, make_engine


def test_migrations_create_exactly_the_models(fresh_database_url) -> None:
    """`alembic check` fails when a model changed without a migration."""
    url = fresh_database_url("migrations")
    migrate.upgrade(url)
    command.check(migrate.alembic_config(url))
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(import_all_models().tables) <= tables


def test_upgrade_twice_is_harmless(fresh_database_url) -> None:
    url = fresh_database_url("twice")
    migrate.upgrade(url)
    migrate.upgrade(url)
