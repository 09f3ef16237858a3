"""A media-only hash-match case on its page: the signals in words (bank, entry, distance,
orientation) rather than a raw dict, and the media itself, blurred and greyscale until
revealed, for its own item and the duplicates grouped into it (and no other media)."""

from __future__ import annotations

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.safety.review import service as review


def test_a_hash_match_case_shows_its_media_and_its_signals_in_words(client, staff, db, clock, platform, cast) -> None:
    first, again, *_ = list(dict.fromkeys(cast.media.values()))
    stranger = next(m for m in dict.fromkeys(cast.media.values()) if m not in (first, again))
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="terrorism", username="rita")
        case = review.open_case(
            s,
            actor=TEST_ACTOR,
            clock=clock,
            subject_kind="media",
            subject_id=first,
            queue="terrorism",
            priority=90,
            source="hash_match",
            reason="Retroactive hash match",
            signals={
                "hash_match": {"bank": "tcap", "entry_id": 7, "distance": 12, "orientation": "rotate_90", "retroactive": True},
                "duplicate_media": [first, again],
            },
        )
        case_id = case.id
    staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    page = client.get(f"/console/review/cases/{case_id}")
    assert page.status_code == 200, page.text[:500]
    assert "{&#39;bank&#39;" not in page.text and "{'bank'" not in page.text
    assert "Hash match in bank &#39;tcap&#39;, entry 7, distance 12 of 256 bits, orientation rotate 90" in page.text
    assert f'data-media="{first}"' in page.text and f'data-media="{again}"' in page.text
    assert 'class="media blur grey"' in page.text and "Show media" in page.text
    assert client.get(f"/console/review/cases/{case_id}/media/{again}").status_code == 200
    assert client.get(f"/console/review/cases/{case_id}/media/{stranger}").status_code == 404
