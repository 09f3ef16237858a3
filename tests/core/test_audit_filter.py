"""The audit log's actor filter (issue #19): a bare name finds that name under every actor
kind, `kind:name` exactly that actor, and nothing that merely contains the text; both are
lookups on the actor index, not a substring scan. And no code makes an actor of a kind the
filter does not know."""

from __future__ import annotations

import re
from pathlib import Path

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.audit.service import ACTOR_KINDS, list_entries
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import PrincipalKind

SRC = Path(__file__).parents[2] / "src" / "trustdesk"


def _record(db: Database, clock, *actors: Actor) -> None:
    with db.transaction() as session:
        for actor in actors:
            audit.record(session, actor=actor, clock=clock, action="thing.change", object_type="thing", object_id="1")


def test_a_bare_name_matches_it_under_every_kind_and_nothing_containing_it(db: Database, clock) -> None:
    _record(db, clock, Actor("staff", "lena"), Actor("officer", "lena"), Actor("staff", "helena"), Actor("cli", "root"))
    with db.transaction() as session:
        bare = {e.actor for e in list_entries(session, actor="lena", limit=50)}
        exact = {e.actor for e in list_entries(session, actor="officer:lena", limit=50)}
        spaced = {e.actor for e in list_entries(session, actor=" lena ", limit=50)}
    assert bare == spaced == {"staff:lena", "officer:lena"}
    assert exact == {"officer:lena"}


def test_every_actor_kind_the_code_makes_is_known_to_the_filter() -> None:
    made = set()
    for path in SRC.rglob("*.py"):
        made |= set(re.findall(r'\bActor\(\s*"([a-z_-]+)"', path.read_text(encoding="utf-8")))
    assert made, "the scan found no actors: the pattern no longer matches the code"
    assert made | {k.value for k in PrincipalKind} <= set(ACTOR_KINDS)
