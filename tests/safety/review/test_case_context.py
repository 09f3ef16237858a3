"""A case in its context (issue #18): the messages around a reported message of a group, but
nothing around one of an end-to-end encrypted chat (the platform holds no readable content
there); the account's strikes and earlier decisions come with it."""

from __future__ import annotations

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.platform.port import ChatKind
from trustdesk.safety.review import service as review
from trustdesk.safety.review.context import case_context


def _case(session, clock, message_id: str):  # type: ignore[no-untyped-def]
    return review.open_case(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        subject_kind="message",
        subject_id=message_id,
        queue="general",
        priority=50,
        source="notice",
        reason="reported",
    )


def test_nothing_around_a_message_of_an_end_to_end_encrypted_chat(session, clock, platform, cast) -> None:
    dealer = cast.accounts["dealer"]
    secret = next(m for m in platform.list_messages(dealer, limit=1000) if platform.get_chat(m.chat_id).kind == ChatKind.SECRET)
    ctx = case_context(session, clock=clock, platform=platform, case=_case(session, clock, secret.id))
    assert ctx.encrypted and [m.id for m in ctx.surrounding] == [secret.id]

    group = case_context(session, clock=clock, platform=platform, case=_case(session, clock, cast.messages["drug_price_list"]))
    assert not group.encrypted and len(group.surrounding) > 1
    assert group.account is not None and group.strikes == [] and group.earlier == []
