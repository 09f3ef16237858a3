"""Saved views of the console's queues: a person's own named filters ("my overdue", "FR
orders this week"), stored per user and per page. A view is the query string of the page's
own filter form, so a saved view, a bookmark and a link mean the same thing; the page parses
it again on every use, and a view that no longer parses is an error at its field, not a
silent empty list."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.database import Base, UTCDateTime
from trustdesk.core.errors import InvalidInput, NotFound

MAX_VIEWS = 30  # a person's views of one page


class SavedView(Base):
    __tablename__ = "console_saved_views"
    __table_args__ = (UniqueConstraint("username", "page", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    page: Mapped[str] = mapped_column(String(80))  # "requests", "review:<queue>"
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def link(self, path: str) -> str:
        return f"{path}?{self.query}" if self.query else path


def views_of(session: Session, *, username: str, page: str) -> list[SavedView]:
    query = select(SavedView).where(SavedView.username == username, SavedView.page == page)
    return list(session.scalars(query.order_by(SavedView.name)))


def save_view(
    session: Session, *, actor: Actor, clock: Clock, username: str, page: str, name: str, params: dict[str, str]
) -> SavedView:
    """Save (or replace, under the same name) the filter `params` of `page` for `username`."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidInput("Give the view a name of 1 to 80 characters.", field="name")
    query = urlencode(sorted((k, v) for k, v in params.items() if v and k != "cursor"))
    if len(query) > 1000:
        raise InvalidInput("This view's filters are too long to save.", field="name")
    mine = views_of(session, username=username, page=page)
    view = next((v for v in mine if v.name == name), None)
    if view is None:
        if len(mine) >= MAX_VIEWS:
            raise InvalidInput(f"You have {MAX_VIEWS} views of this page; delete one first.", field="name")
        view = SavedView(username=username, page=page, name=name, query=query, created_at=clock.now())
        session.add(view)
    view.query = query
    session.flush()
    record(session, actor=actor, clock=clock, action="console.view.save", object_type="saved_view", object_id=view.id)
    return view


def delete_view(session: Session, *, actor: Actor, clock: Clock, username: str, view_id: int) -> SavedView:
    view = session.get(SavedView, view_id)
    if view is None or view.username != username:
        raise NotFound(f"You have no saved view {view_id}.")
    session.delete(view)  # a person's own bookmark, not a record: it may go
    session.flush()
    record(session, actor=actor, clock=clock, action="console.view.delete", object_type="saved_view", object_id=view_id)
    return view


def params_of(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))
