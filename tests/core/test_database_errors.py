"""A database error names the statement, never its bound values (issue #14): the pipeline
logs a failed batch's exception, and its values are message text and account names."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from trustdesk.core.database import make_engine


def test_a_failed_statement_keeps_its_values_out_of_the_error(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("INSERT INTO no_such_table (who) VALUES (:who)"), {"who": "victim@example.org"})
    finally:
        engine.dispose()
    assert "no_such_table" in str(failed.value)
    assert "victim@example.org" not in str(failed.value)
