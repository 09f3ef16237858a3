from __future__ import annotations

from alembic import context

from trustdesk.core.database import import_all_models, make_engine

target_metadata = import_all_models()


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _migrate(conn)
        conn.commit()
    engine.dispose()


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
