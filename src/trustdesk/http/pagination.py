"""Cursor pagination: opaque, URL-safe cursors so that clients never build offsets."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from trustdesk.core.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidInput("The cursor is not one this API handed out.") from exc
    if not isinstance(value, dict):
        raise InvalidInput("The cursor is not one this API handed out.")
    return value


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order: its expression, its name in the cursor, its direction,
    and whether its values are instants (carried in the cursor as ISO 8601)."""

    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    name: str
    descending: bool = False
    instant: bool = False
    read: Callable[[Any], Any] | None = None  # the row's value, for a computed key (a COALESCE); default: the attribute `name`


@dataclass(frozen=True)
class Keyset:
    """A page of a query in a fixed order (the last key unique, e.g. the id), continued from
    the last row of the page before rather than by an offset: page 2,000 costs what page 1
    costs, and a row inserted meanwhile neither repeats nor hides one."""

    keys: tuple[SortKey, ...]

    def order(self) -> list[ColumnElement[Any]]:
        return [k.column.desc() if k.descending else k.column.asc() for k in self.keys]

    def page(self, session: Session, query: Select[Any], *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"Ask for 1 to {MAX_PAGE} rows a page.", field="limit")
        after = self._after(decode_cursor(cursor))
        if after is not None:
            query = query.where(after)
        rows = list(session.scalars(query.order_by(*self.order()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (self.cursor_of(rows[-1]) if more and rows else None)

    def cursor_of(self, row: Any) -> str:
        values = {}
        for key in self.keys:
            value = _value_of(row, key)
            values[key.name] = value.isoformat() if isinstance(value, datetime) else value
        return encode_cursor(values)

    def _after(self, cursor: dict[str, Any]) -> ColumnElement[bool] | None:
        if not cursor:
            return None
        if set(cursor) != {k.name for k in self.keys}:
            raise InvalidInput("The cursor is not one this list handed out.", field="cursor")
        condition: ColumnElement[bool] | None = None
        for key in reversed(self.keys):
            value = cursor[key.name]
            if key.instant:
                try:
                    value = datetime.fromisoformat(value)
                except (TypeError, ValueError) as exc:
                    raise InvalidInput("The cursor is not one this list handed out.", field="cursor") from exc
            beyond = key.column < value if key.descending else key.column > value
            condition = beyond if condition is None else or_(beyond, and_(key.column == value, condition))
        return condition


MAX_PAGE = 500


def _value_of(row: Any, key: SortKey) -> Any:
    return key.read(row) if key.read is not None else getattr(row, key.name)


def next_page(request: Request, response: Response, cursor: str | None) -> None:
    """Name the next page of a list answered as a plain JSON array: `Link: <...>; rel="next"`
    (RFC 8288) and `X-Next-Cursor`; nothing when this page was the last."""
    if cursor is None:
        return
    url = request.url.include_query_params(cursor=cursor)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    response.headers["X-Next-Cursor"] = cursor
