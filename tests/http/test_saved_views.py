"""Saved views (issue #18): a person's own named filters of a page; saving the same name
again replaces it, another person's view is not found, a bad name changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ACTOR
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.http import saved_views


def test_views_are_per_person_and_page_and_replace_by_name(db: Database, clock: FrozenClock) -> None:
    with db.transaction() as session:
        save = lambda who, page, name, params: saved_views.save_view(  # noqa: E731
            session, actor=TEST_ACTOR, clock=clock, username=who, page=page, name=name, params=params
        )
        mine = save("rita", "review:general", "  Overdue   drugs ", {"due": "overdue", "policy": "drugs", "cursor": "x"})
        assert mine.name == "Overdue drugs" and mine.query == "due=overdue&policy=drugs"  # no cursor, sorted
        again = save("rita", "review:general", "Overdue drugs", {"due": "24h"})
        assert again.id == mine.id and again.query == "due=24h"
        save("ravi", "review:general", "Overdue drugs", {"due": "overdue"})
        save("rita", "requests", "Germany", {"country": "DE"})
        assert [v.name for v in saved_views.views_of(session, username="rita", page="review:general")] == ["Overdue drugs"]
        assert saved_views.params_of(again.query) == {"due": "24h"}
        with pytest.raises(InvalidInput):
            save("rita", "requests", "   ", {})
        with pytest.raises(NotFound):
            saved_views.delete_view(session, actor=TEST_ACTOR, clock=clock, username="ravi", view_id=mine.id)
        saved_views.delete_view(session, actor=TEST_ACTOR, clock=clock, username="rita", view_id=mine.id)
        assert saved_views.views_of(session, username="rita", page="review:general") == []
