"""Retroaction that removes: on the demo platform, posters already posted are taken down when
a bank the automation policy allows (`tco_verified`, terrorism) gains their PDQ, each with a
statement of reasons and a review case that tells a person what the machine did. A bank the
policy does not name, or an entry the flood guard paused, only goes to review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank, pdq_of
from trustdesk.core.identity.permissions import Permission
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.platform.port import MessageState
from trustdesk.safety.banks import flood, service
from trustdesk.safety.banks.automation import allowance_for
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.lookup import hash_bytes, remember
from trustdesk.safety.banks.models import FloodAlert, HashMatch
from trustdesk.safety.banks.retroaction import retroact
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons
from trustdesk.safety.review.models import Case, CaseEvent

POSTS = ("propaganda_poster", "poster_repost_resized", "poster_repost_cropped")


@pytest.fixture
def platform(clock) -> DemoPlatform:  # type: ignore[no-untyped-def]
    """The demo world on the test's clock, so statements date the content before the decision."""
    return DemoPlatform.from_url("sqlite://", clock=clock)


@pytest.fixture
def api(client, staff):  # type: ignore[no-untyped-def]
    scopes = (Permission.BANKS_MANAGE, Permission.MATCH_LOOKUP, Permission.SAFETY_READ)
    client.headers["Authorization"] = f"Bearer {staff.token(*scopes)}"
    return client


def _seen(api, cast) -> None:  # type: ignore[no-untyped-def]
    """The platform's uploads pass through the lookup, as the pipeline would hash them."""
    for name in ("poster", "poster_resized", "poster_cropped", "cat"):
        assert api.post("/api/v1/match/lookup", data={"media_id": cast.media[name]}).status_code == 200


def test_a_verified_bank_update_removes_posted_matches_with_statements(api, platform, db) -> None:
    cast = seed_demo(platform)
    _seen(api, cast)
    bank = api.post("/api/v1/banks", json={"name": "tco_verified", "policy": "terrorism"}).json()
    added = api.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "value": pdq_of(imagery.poster_original()[1])}]},
    )
    assert added.status_code == 201, added.text
    assert added.json()["retroaction"]["matches"] == 3 and added.json()["retroaction"]["removed"] == 3
    for key in POSTS:
        assert platform.get_message(cast.messages[key]).state is MessageState.REMOVED
    with db.transaction() as session:
        actions = session.scalars(select(EnforcementAction).where(EnforcementAction.action == "remove_message")).all()
        assert sorted(a.subject_id for a in actions) == sorted(cast.messages[k] for k in POSTS)
        assert all(a.automated and a.source == "hash_match" and a.platform_ok and a.policy == "terrorism" for a in actions)
        statements = session.scalars(
            select(StatementOfReasons).where(StatementOfReasons.action_id.in_([a.id for a in actions]))
        ).all()
        assert len(statements) == 3 and all(
            s.payload["automated_decision"] != "AUTOMATED_DECISION_NOT_AUTOMATED" for s in statements
        )
        cases = session.scalars(select(Case).where(Case.source == "hash_match")).all()
        assert len(cases) == 3 and all(c.state == "open" and c.signals["automatic_removal"]["removed"] for c in cases)
        assert session.scalars(select(CaseEvent).where(CaseEvent.kind == "automatic_removal")).all()
    assert platform.get_message(cast.messages["propaganda_poster"]).state is MessageState.REMOVED


def test_a_bank_the_policy_does_not_name_only_opens_cases(api, platform, db) -> None:
    cast = seed_demo(platform)
    _seen(api, cast)
    bank = api.post("/api/v1/banks", json={"name": "partner list (unverified)", "policy": "terrorism"}).json()
    added = api.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "value": pdq_of(imagery.poster_original()[1])}]},
    ).json()
    assert added["retroaction"]["cases"] == 3 and added["retroaction"]["removed"] == 0
    assert all(platform.get_message(cast.messages[k]).state is MessageState.VISIBLE for k in POSTS)
    with db.transaction() as session:
        assert session.scalars(select(EnforcementAction)).all() == []


def test_a_paused_entry_never_removes(session, clock, platform, matcher) -> None:
    cast = seed_demo(platform)
    for name in ("poster", "poster_resized"):
        item, data = platform.get_media(cast.media[name])
        remember(
            session,
            clock=clock,
            platform_name=platform.name,
            media_id=item.id,
            hashes=hash_bytes(data),
            message_id=item.message_id,
        )
    bank = make_bank(session, clock, name="tco_verified")
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(imagery.poster_original()[1]))]
    ).added
    for _ in range(3):  # a burst on a brand-new entry: the flood guard pauses it
        flood.count_hits(session, actor=TEST_ACTOR, clock=clock, entry_ids=[entry.id], policy=flood.FloodPolicy(min_hits=3))
    assert entry.flood_paused_at is not None
    run = retroact(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], trigger="test", platform=platform
    )
    assert run.matches == 2 and run.cases == 2 and run.removed == 0
    assert platform.get_message(cast.messages["propaganda_poster"]).state is MessageState.VISIBLE
    assert all(m.action_paused for m in session.scalars(select(HashMatch)))
    notes = [c.signals["automatic_removal"]["note"] for c in session.scalars(select(Case))]
    assert notes and all("flood guard" in n for n in notes)


def test_a_bank_update_matching_a_crowd_of_old_uploads_is_paused_before_it_acts(session, clock, platform) -> None:
    """The classic bad entry, retroactively: 60 stored uploads match at once; the flood guard
    pauses the entry during the run and nothing is removed."""
    cast = seed_demo(platform)
    hashes = hash_bytes(imagery.poster_original()[1])
    for number in range(60):
        message = cast.messages["propaganda_poster"] if number == 0 else None
        remember(session, clock=clock, platform_name=platform.name, media_id=f"crowd-{number}", hashes=hashes, message_id=message)
    bank = make_bank(session, clock, name="tco_verified")
    added = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, platform=platform, entries=[NewEntry("pdq", hashes.pdq or "")]
    )
    assert added.retroaction is not None and added.retroaction.matches == 60 and added.retroaction.removed == 0
    assert session.scalars(select(FloodAlert)).all()
    assert platform.get_message(cast.messages["propaganda_poster"]).state is MessageState.VISIBLE


def test_the_allowance_follows_the_automation_policy(session, clock) -> None:
    verified = make_bank(session, clock, name="csam_verified", policy="child_sexual_exploitation")
    wrong_policy = make_bank(session, clock, name="tco_verified", policy="child_sexual_exploitation")
    assert allowance_for(verified, distance=31) is not None
    assert allowance_for(verified, distance=32) is None
    assert allowance_for(wrong_policy, distance=0) is None
