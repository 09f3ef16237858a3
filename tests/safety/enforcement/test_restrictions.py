"""Restricting a message's visibility, everywhere or in some countries, on the demo platform:
what the platform does, what the user and the DSA database are told (and that the database's
test double accepts it), and how an appeal lifts it. Also the reopening of a closed chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.doubles.dsa_database import BACKENDS, dsa_backend
from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.dsa_database import DsaDatabase
from trustdesk.core.errors import InvalidInput
from trustdesk.legal.policy.jurisdictions import eea_countries
from trustdesk.platform.port import MessageState
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.statements import render


def act(session, clock, platform, **overrides):  # type: ignore[no-untyped-def]
    args = dict(
        subject_kind="message",
        action="geo_restrict",
        policy="illegal_goods",
        automated=False,
        source="notice",
        reason="Advertises drugs for sale; illegal where the buyers are.",
    )
    return enforcement.take_action(session, actor=TEST_ACTOR, clock=clock, platform=platform, **{**args, **overrides})


def reverse(session, clock, platform, action):  # type: ignore[no-untyped-def]
    return enforcement.reverse_action(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        platform=platform,
        action_id=action.id,
        reason="Appeal upheld: the item is legal there.",
    )


@pytest.fixture(params=BACKENDS)
def dsa_client(request: pytest.FixtureRequest) -> Iterator[DsaDatabase]:
    with dsa_backend(request.param) as backend:
        yield backend.database


def viewer(platform, country: str, name: str) -> str:  # type: ignore[no-untyped-def]
    return platform.posting.create_account(username=name, display_name=name, country=country).id


def test_a_geo_restriction_hides_the_message_in_its_countries_until_its_end(session, clock, platform, cast, dsa_client) -> None:
    message_id, until = cast.messages["drug_ad"], clock.now() + timedelta(days=30)
    action = act(
        session, clock, platform, subject_id=message_id, territorial_scope=["de", "AT"], until=until, legal_ground="BtMG § 29"
    )
    assert action.platform_ok and action.platform_ref and action.territorial_scope == ["AT", "DE"]
    assert platform.get_message(message_id).state is MessageState.RESTRICTED
    in_austria, in_italy = viewer(platform, "AT", "anna_at"), viewer(platform, "IT", "ivo_it")
    assert not platform.posting.sees(viewer_id=in_austria, message_id=message_id)
    assert platform.posting.sees(viewer_id=in_italy, message_id=message_id)
    payload = action.statement.payload
    assert payload["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert payload["territorial_scope"] == ["AT", "DE"]
    assert payload["end_date_visibility_restriction"] == until.date().isoformat()
    assert validate_statement(payload) == {}
    outcome = dsa_client.submit([payload])
    assert list(outcome.accepted) == [payload["puid"]] and not outcome.rejected and not outcome.failed
    clock.advance(days=31)
    assert platform.get_message(message_id).state is MessageState.VISIBLE  # the term ended by itself


def test_the_user_is_told_where_and_until_when(session, clock, platform, cast) -> None:
    until = clock.now() + timedelta(days=14)
    action = act(session, clock, platform, subject_id=cast.messages["drug_ad"], territorial_scope=["FR"], until=until)
    said = dict(render(action.statement.facts, language="en", appeal_url="u"))["What we did"]
    assert "unavailable to others in some countries" in said and "This applies in: FR." in said
    assert f"It lasts until {until.date().isoformat()}." in said


def test_restricting_visibility_everywhere_is_reported_for_the_whole_eea(session, clock, platform, cast, dsa_client) -> None:
    message_id = cast.messages["drug_ad"]
    action = act(session, clock, platform, subject_id=message_id, action="restrict_visibility")
    assert platform.get_message(message_id).state is MessageState.RESTRICTED
    assert not platform.posting.sees(viewer_id=viewer(platform, "IT", "ivo_it"), message_id=message_id)
    assert platform.posting.sees(viewer_id=cast.accounts["dealer"], message_id=message_id)  # the author still does
    payload = action.statement.payload
    assert payload["territorial_scope"] == sorted(eea_countries()) and "end_date_visibility_restriction" not in payload
    assert list(dsa_client.submit([payload]).accepted) == [payload["puid"]]
    said = dict(render(action.statement.facts, language="de", appeal_url="u"))
    assert "nur Sie sehen sie noch" in " ".join(said.values())


@pytest.mark.parametrize("action", ["geo_restrict", "restrict_visibility"])
def test_an_upheld_appeal_lifts_the_restriction(session, clock, platform, cast, action) -> None:
    message_id = cast.messages["drug_ad"]
    row = act(session, clock, platform, subject_id=message_id, action=action, territorial_scope=["DE"])
    clock.advance(days=1)
    reverse(session, clock, platform, row)
    assert row.reversal_ok and platform.get_message(message_id).state is MessageState.VISIBLE
    assert platform.posting.sees(viewer_id=viewer(platform, "DE", "dora_de"), message_id=message_id)
    assert row.statement.correction.startswith("On ")


def test_reversing_a_restriction_that_already_ended_is_recorded_as_done(session, clock, platform, cast) -> None:
    row = act(
        session,
        clock,
        platform,
        subject_id=cast.messages["drug_ad"],
        territorial_scope=["DE"],
        until=clock.now() + timedelta(days=2),
    )
    clock.advance(days=3)
    reverse(session, clock, platform, row)
    assert row.reversal_ok and "already ended" in row.reversal_detail


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"territorial_scope": None}, "needs the countries"),
        ({"territorial_scope": ["DE", "TR"]}, "EU/EEA"),
        ({"action": "remove_message", "territorial_scope": ["DE"]}, "applies everywhere"),
    ],
)
def test_a_scope_that_cannot_be_carried_out_changes_nothing(session, clock, platform, cast, overrides, words) -> None:
    message_id = cast.messages["drug_ad"]
    with pytest.raises(InvalidInput, match=words) as raised:
        act(session, clock, platform, subject_id=message_id, **overrides)
    assert raised.value.extensions.get("field") == "territorial_scope"
    assert platform.get_message(message_id).state is MessageState.VISIBLE


def test_a_platform_that_cannot_restrict_is_never_asked(session, clock, platform, cast, monkeypatch) -> None:
    monkeypatch.setattr(platform, "capabilities", frozenset())
    with pytest.raises(InvalidInput, match="cannot restrict visibility"):
        act(session, clock, platform, subject_id=cast.messages["drug_ad"], action="restrict_visibility")
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE


def test_an_upheld_appeal_reopens_a_closed_chat(session, clock, platform, cast) -> None:
    chat_id = cast.chats["bulletin"]
    row = act(
        session,
        clock,
        platform,
        subject_kind="chat",
        subject_id=chat_id,
        action="close_chat",
        policy="terrorism",
        territorial_scope=None,
    )
    assert platform.get_chat(chat_id).closed
    reverse(session, clock, platform, row)
    assert row.reversal_ok and not platform.get_chat(chat_id).closed
