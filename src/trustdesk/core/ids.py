"""Row ids as callers may send them. A number no id column can hold is not the id of anything:
it is refused as bad input (422) before it reaches a driver that would fail on it (500).

The tables' ids are INTEGER columns: 64-bit on SQLite but 32-bit (int4) on PostgreSQL, where
even a lookup by a larger number fails ("integer out of range"). So an id runs to 2**31-1;
only the audit chain's sequence number is a BIGINT.

The bounds are plain `annotated_types` metadata, so that the same type serves a FastAPI path
or query parameter and a pydantic body field, and the OpenAPI document states them."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's INTEGER
MAX_BIG_ID = 2**63 - 1  # BIGINT

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
"""The id of a row: 1 .. 2**31-1."""

RowIdOrZero = Annotated[int, Ge(0), Le(MAX_ROW_ID)]
"""A position before a row id (`after_id=0` means from the start)."""

BigRowId = Annotated[int, Ge(1), Le(MAX_BIG_ID)]
"""A BIGINT id, such as an audit entry's `seq`: 1 .. 2**63-1."""
