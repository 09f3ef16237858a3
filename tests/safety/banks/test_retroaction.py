"""Retroaction and the flood guard: entries added today find the uploads of last week and
send them to review; an entry that suddenly matches everything stops automatic action."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank, pdq_of
from trustdesk.core.paging import InMemoryPager
from trustdesk.safety.banks import flood, service
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.lookup import check_upload
from trustdesk.safety.banks.models import BankEntry, EntryHits, HashMatch
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.review.models import Case
from trustdesk.safety.signals.hashing import hash_media


def _upload(session, clock, matcher, media_id: str, data: bytes):  # type: ignore[no-untyped-def]
    return check_upload(
        session, matcher=matcher, actor=TEST_ACTOR, clock=clock, platform_name="demo", media_id=media_id, data=data
    )


def test_new_entries_find_old_uploads_and_open_review_cases(session, clock, matcher, poster, poster_edits, unrelated) -> None:
    for number, data in enumerate([poster, *poster_edits, *unrelated]):
        assert _upload(session, clock, matcher, f"m{number}", data).result.matches == []
    clock.advance(days=3)
    bank = make_bank(session, clock)
    added = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(poster))], trigger="test import"
    )
    run = added.retroaction
    assert run is not None and run.matches == 3 and run.cases == 3 and run.media_scanned >= 6
    cases = session.scalars(select(Case).where(Case.source == "hash_match").order_by(Case.subject_id)).all()
    assert [(c.subject_kind, c.subject_id, c.queue) for c in cases] == [
        ("media", "m0", "terrorism"),
        ("media", "m1", "terrorism"),
        ("media", "m2", "terrorism"),
    ]
    assert cases[0].signals["hash_match"]["retroactive"] is True


def test_retroaction_never_reports_a_pair_twice_and_respects_negative_banks(
    session, clock, matcher, poster, poster_edits
) -> None:
    _upload(session, clock, matcher, "orig", poster)
    _upload(session, clock, matcher, "edit", poster_edits[0])
    negative = make_bank(session, clock, name="cleared", kind="negative", threshold=4)
    service.add_entries(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        bank_id=negative.id,
        entries=[NewEntry("sha256", hash_media(poster_edits[0]).sha256)],
    )
    bank = make_bank(session, clock)
    first = add_entries_flow(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(poster))])
    assert first.retroaction is not None and first.retroaction.matches == 1  # the cleared edit is suppressed
    md5 = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("md5", hash_media(poster).md5)]
    )
    assert md5.retroaction is not None and md5.retroaction.matches == 1 and md5.retroaction.cases == 1
    assert len(session.scalars(select(Case).where(Case.subject_id == "orig")).all()) == 1  # grouped into the open case


def test_a_negative_bank_gaining_entries_opens_nothing(session, clock, matcher, poster) -> None:
    _upload(session, clock, matcher, "orig", poster)
    negative = make_bank(session, clock, name="cleared", kind="negative")
    run = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=negative.id, entries=[NewEntry("pdq", pdq_of(poster))]
    ).retroaction
    assert run is not None and run.matches == 0 and run.entries == 0


def test_uploads_are_remembered_once_and_their_matches_recorded(session, clock, matcher, poster) -> None:
    bank = make_bank(session, clock)
    service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(poster))])
    one = _upload(session, clock, matcher, "m1", poster)
    two = _upload(session, clock, matcher, "m1", poster)
    assert one.media_hash_id == two.media_hash_id
    assert len(session.scalars(select(HashMatch)).all()) == 1


def test_a_flooding_entry_is_paused_and_a_person_is_paged(session, clock, matcher, poster, staff) -> None:
    from trustdesk.core.identity.permissions import Role

    staff.create(Role.ON_CALL, username="oncall")
    pager = InMemoryPager()
    bank = make_bank(session, clock)
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(poster))]
    ).added
    policy = flood.FloodPolicy(min_hits=5, factor=10)
    clock.at = clock.at.replace(minute=0)
    for _day in range(7):  # a quiet week: one match a day
        flood.count_hits(session, actor=TEST_ACTOR, clock=clock, entry_ids=[entry.id], policy=policy, pager=pager)
        clock.advance(days=1)
    alerts = []
    for _ in range(5):
        alerts += flood.count_hits(session, actor=TEST_ACTOR, clock=clock, entry_ids=[entry.id], policy=policy, pager=pager)
    assert len(alerts) == 1 and alerts[0].hits == 5 and entry.flood_paused_at is not None
    assert "paged" in alerts[0].paging_note and len(pager.sent) == 1
    found = _upload(session, clock, matcher, "new", poster).result.matches
    assert found and found[0].action_paused  # still reported, but nothing acts on it automatically
    flood.resolve(session, actor=TEST_ACTOR, clock=clock, alert_id=alerts[0].id, resume=True, reason="checked: real wave")
    assert entry.flood_paused_at is None and flood.open_alerts(session) == []


def test_a_steady_popular_entry_is_not_a_flood(session, clock) -> None:
    bank = make_bank(session, clock)
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("md5", "a" * 32)]
    ).added
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    session.add_all(EntryHits(entry_id=entry.id, hour=hour - timedelta(hours=h), hits=5) for h in range(1, 169))
    policy = flood.FloodPolicy(min_hits=3, factor=10)
    for _ in range(40):
        assert flood.count_hits(session, actor=TEST_ACTOR, clock=clock, entry_ids=[entry.id], policy=policy) == []
    assert flood.baseline(session, entry_id=entry.id, hour=hour, hours=168) == 5
    assert session.get(BankEntry, entry.id).flood_paused_at is None


def test_a_new_entry_that_matches_a_burst_at_once_is_paused(session, clock) -> None:
    """No history is the classic bad entry: a blank frame added today matching everything."""
    bank = make_bank(session, clock)
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("md5", "a" * 32)]
    ).added
    policy = flood.FloodPolicy(min_hits=3, factor=10)
    raised = [
        a for _ in range(3) for a in flood.count_hits(session, actor=TEST_ACTOR, clock=clock, entry_ids=[entry.id], policy=policy)
    ]
    assert len(raised) == 1 and "console only" in raised[0].paging_note
    assert [a.id for a in flood.open_alerts(session)] == [raised[0].id]


def test_the_demo_bank_finds_the_demo_posters(session, clock, platform) -> None:
    from trustdesk.platform.demo.seed import seed_demo
    from trustdesk.safety.banks.demo import load_demo_banks

    cast = seed_demo(platform)
    bank = load_demo_banks(session, platform=platform, actor=TEST_ACTOR, clock=clock)
    again = load_demo_banks(session, platform=platform, actor=TEST_ACTOR, clock=clock)
    assert again.id == bank.id
    cases = session.scalars(select(Case.subject_id).where(Case.source == "hash_match")).all()
    assert sorted(cases) == sorted(cast.media[n] for n in ("poster", "poster_resized", "poster_cropped"))


def test_the_same_image_uploaded_twice_makes_one_case(session, clock, matcher, poster, unrelated) -> None:
    for media_id, data in (("first", poster), ("again", poster), ("other", unrelated[0])):
        _upload(session, clock, matcher, media_id, data)
    bank = make_bank(session, clock)
    run = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", pdq_of(poster))]
    ).retroaction
    assert run is not None and run.matches == 2 and run.cases == 1
    [case] = session.scalars(select(Case).where(Case.source == "hash_match")).all()
    assert (case.subject_kind, case.subject_id, case.reports) == ("media", "first", 2)
    assert case.signals["duplicate_media"] == ["first", "again"]
    assert case.signals["hash_match"]["media_id"] == "first" and case.signals["hash_match again"]["media_id"] == "again"
    matches = session.scalars(select(HashMatch).order_by(HashMatch.id)).all()
    assert {m.case_id for m in matches} == {case.id}
