"""Row ids as callers may send them. Every table's id is a 64-bit signed integer (SQLite's
INTEGER, PostgreSQL's BIGINT or smaller), so a larger number is not an id of anything: it is
refused as bad input (422) before it reaches a driver that would fail on it (500).

The bounds are plain `annotated_types` metadata, so that the same type serves a FastAPI path
or query parameter and a pydantic body field, and the OpenAPI document states them."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
"""The id of a row: 1 .. 2**63-1."""

RowIdOrZero = Annotated[int, Ge(0), Le(MAX_ROW_ID)]
"""A position before a row id (`after_id=0` means from the start)."""
