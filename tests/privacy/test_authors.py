"""Rights requests and hold checks find the messages a person posted that nothing was done
about (issue #21, the gap left by the rights work): senders come from what Trustdesk stores
first, then from the platform port (the demo platform here), only for the message ids notices
and cases are about; a message the platform cannot say the sender of is listed as unresolved
in the staff-only reasons and never counted as anyone's."""

from __future__ import annotations

from sqlalchemy import select

from tests.privacy.conftest import PrivacyFactory, dpo
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind, Message
from trustdesk.privacy import authors, retention, rights, rows
from trustdesk.privacy.models import RightKind, RightState
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice

ACTOR = Actor("staff", "dana")


def _people(platform: DemoPlatform) -> tuple[str, str, str, str]:
    """Alice and Bob on the demo platform, one message each in a group chat."""
    post = platform.posting
    alice = post.create_account(username="alice_a", display_name="Alice").id
    bob = post.create_account(username="bob_b", display_name="Bob").id
    chat = post.create_chat(kind=ChatKind.GROUP, title="g", member_ids=[alice, bob]).id
    mine = post.post_message(chat_id=chat, sender_id=alice, text="hello").id
    theirs = post.post_message(chat_id=chat, sender_id=bob, text="hi").id
    return alice, bob, mine, theirs


def _notice(db: Database, clock: FrozenClock, message_id: str) -> int:
    """A notice about `message_id` with nothing done about it: no case decision, no action."""
    with db.transaction() as s:
        notice = Notice(
            token=f"tok-{message_id}", received_at=clock.now(), reason="spam", subject_kind="message", subject_id=message_id,
            location=f"https://chat.example/m/{message_id}", explanation="looks like spam to me", notifier_name="Nora",
            notifier_email="nora@example.org", good_faith=True, decided_at=clock.now(), outcome="no_action",
        )  # fmt: skip
        s.add(notice)
        s.flush()
        return notice.id


def _receive(db: Database, clock: FrozenClock, kind: RightKind, account_id: str, platform: DemoPlatform) -> rights.Outcome:
    with db.transaction() as session:
        outcome = rights.receive(
            session, actor=ACTOR, clock=clock, principal=dpo(), kind=kind, account_id=account_id, platform=platform
        )
        session.expunge(outcome.request)
        return outcome


def test_a_notice_about_the_persons_message_is_exported_and_erased(
    db: Database, clock: FrozenClock, platform: DemoPlatform
) -> None:
    alice, _, mine, theirs = _people(platform)
    about_mine, about_theirs = _notice(db, clock, mine), _notice(db, clock, theirs)
    document = _receive(db, clock, RightKind.ACCESS, alice, platform).export
    assert document is not None
    assert [n["subject_id"] for n in document["sections"]["notices"]] == [mine]
    # without the platform the sender is not known: the notice is not the person's, never guessed
    with db.transaction() as session:
        request = rights.receive(session, actor=ACTOR, clock=clock, principal=dpo(), kind=RightKind.ACCESS, account_id=alice)
        assert request.export is not None and request.export["sections"]["notices"] == []
        assert {r["obstacle"] for r in request.request.reasons} == {"unresolved_sender"}
    erased = _receive(db, clock, RightKind.ERASURE, alice, platform).request
    assert erased.state == RightState.COMPLETED and erased.counts["notices"] == 1
    with db.transaction() as session:
        gone, kept = session.get(Notice, about_mine), session.get(Notice, about_theirs)
        assert gone is not None and kept is not None
        assert gone.subject_id.startswith(rows.MARK) and not gone.notifier_email and not gone.explanation
        assert kept.subject_id == theirs and kept.notifier_email == "nora@example.org"


def test_a_deleted_message_is_unresolved_in_the_staff_reasons_and_never_guessed(
    db: Database, clock: FrozenClock, platform: DemoPlatform
) -> None:
    alice, _, mine, _ = _people(platform)
    _notice(db, clock, mine)
    _notice(db, clock, "m-deleted")  # the platform no longer has it
    outcome = _receive(db, clock, RightKind.ACCESS, alice, platform)
    assert outcome.export is not None and [n["subject_id"] for n in outcome.export["sections"]["notices"]] == [mine]
    (reason,) = outcome.request.reasons
    assert reason["obstacle"] == "unresolved_sender" and "m-deleted" in reason["detail"] and reason["scope"] == "messages"
    assert "m-deleted" not in str(outcome.export) and "unresolved" not in outcome.request.told


class Counting(DemoPlatform):
    """The demo platform, recording which messages it was asked about."""

    asked: list[str]

    def get_message(self, message_id: str) -> Message:
        self.asked.append(message_id)
        return super().get_message(message_id)


def test_stored_senders_come_first_and_only_held_unattributed_ids_are_asked(
    db: Database, clock: FrozenClock, platform: DemoPlatform
) -> None:
    alice, bob, mine, theirs = _people(platform)
    platform.posting.post_message(chat_id=platform.get_message(mine).chat_id, sender_id=alice, text="not reported")
    _notice(db, clock, mine), _notice(db, clock, theirs)
    with db.transaction() as s:  # the pipeline handled Bob's message: it carries the actor
        s.add(
            HandledEvent(
                event_id=theirs, kind="message", platform="demo", actor=bob, occurred_at=clock.now(),
                handled_at=clock.now(), payload="{}", verdicts=[], hits=0, worker="w",
            )
        )  # fmt: skip
    counting = Counting(engine=platform.store.engine, clock=platform.clock)
    counting.asked = []
    with db.transaction() as session:
        found = authors.resolve(session, counting)
    assert found.senders == {mine: alice, theirs: bob} and found.unresolved == frozenset()
    assert counting.asked == [mine]  # not Bob's (stored), not the message no record is about


def test_a_hold_on_the_account_keeps_the_notice_about_its_message_from_retention(
    db: Database, clock: FrozenClock, platform: DemoPlatform, world: PrivacyFactory
) -> None:
    alice, _, mine, theirs = _people(platform)
    _notice(db, clock, mine), _notice(db, clock, theirs)
    world.hold(alice)
    with db.transaction() as session:
        kept_by = rows.protection(session, authors.resolve(session, platform))
    assert kept_by.obstacle([mine]) is not None and kept_by.obstacle([theirs]) is None
    erasure = _receive(db, clock, RightKind.ERASURE, alice, platform).request
    assert erasure.state == RightState.DEFERRED and erasure.counts == {}

    clock.advance(days=800)
    with db.transaction() as session:
        retention.run_retention(session, clock=clock, platform=platform)
        subjects = set(session.scalars(select(Notice.subject_id)))
    assert mine in subjects and theirs not in subjects  # Bob's went with its period; Alice's is held
