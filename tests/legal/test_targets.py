"""Targets: the platform's own forms are accepted in any spelling; other platforms' are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.targets import TargetKind, guess_kind, normalise, parse_targets, platform_format, resolve

FMT = platform_format()


@pytest.mark.parametrize(
    ("raw", "kind", "normalised"),
    [
        ("@Suspect_One", TargetKind.USERNAME, "suspect_one"),
        ("+33 6 12 00 00 09", TargetKind.PHONE, "+33612000009"),
        ("0033 6-12-00-00-09", TargetKind.PHONE, "+33612000009"),
        ("u1001", TargetKind.ACCOUNT_ID, "u1001"),
        ("m42", TargetKind.MESSAGE_ID, "m42"),
        ("https://demo.messenger.invalid/@Suspect_One", TargetKind.USERNAME, "suspect_one"),
        ("demo.messenger.invalid/u/u7", TargetKind.ACCOUNT_ID, "u7"),
        ("https://demo.messenger.invalid/m/m9/", TargetKind.MESSAGE_ID, "m9"),
    ],
)
def test_accepted_forms(raw: str, kind: TargetKind, normalised: str) -> None:
    [target] = parse_targets([(None, raw)])
    assert (target.kind, target.normalised) == (kind, normalised)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://t.me/some_channel", "Telegram link"),
        ("wa.me/4915123456789", "WhatsApp link"),
        ("https://www.facebook.com/profile.php?id=1", "Facebook link"),
        ("https://example.org/@someone", "not a link to this platform"),
        ("https://demo.messenger.invalid/settings", "not to an account or a message"),
    ],
)
def test_other_platforms_links_are_refused_clearly(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_targets([(None, raw)])


def test_an_id_in_another_platforms_format_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a account id of this platform"):
        parse_targets([("account_id", "100004567891234")])
    with pytest.raises(InvalidInput, match="Unknown target kind"):
        parse_targets([("facebook_id", "1")])


def test_no_targets_and_too_many_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one target"):
        parse_targets([])
    with pytest.raises(InvalidInput, match="At most"):
        parse_targets([(None, f"user_{i:03d}") for i in range(51)])


def test_duplicates_collapse() -> None:
    assert len(parse_targets([(None, "@Suspect_One"), (None, "suspect_one")])) == 1


@given(st.from_regex(r"[a-z0-9_]{3,32}", fullmatch=True), st.sampled_from(["", "@", "@@", " @"]), st.booleans())
def test_a_username_is_the_same_target_however_written(name: str, prefix: str, upper: bool) -> None:
    written = prefix + (name.upper() if upper else name)
    kind = TargetKind.USERNAME
    assert normalise(kind, written, FMT).normalised == name


@given(st.from_regex(r"[1-9][0-9]{7,12}", fullmatch=True), st.sampled_from(["+", "00"]), st.sampled_from([" ", "-", ".", ""]))
def test_a_phone_is_the_same_target_however_spaced(digits: str, prefix: str, sep: str) -> None:
    written = prefix + sep.join([digits[:3], digits[3:6], digits[6:]])
    assert guess_kind(written, FMT) is TargetKind.PHONE
    assert normalise(TargetKind.PHONE, written, FMT).normalised == "+" + digits


def test_resolution_through_the_platform(world, platform) -> None:
    by_name, by_phone, by_message, missing = parse_targets(
        [(None, "@suspect_one"), (None, world.phone), (None, world.message_id), (None, "nobody_here")]
    )
    assert resolve(by_name, platform).account_id == world.account_id
    assert resolve(by_phone, platform).account_id == world.account_id
    assert resolve(by_message, platform).message_id == world.message_id
    assert not resolve(missing, platform).resolved


@given(
    st.sampled_from(sorted(FMT.foreign_hosts)),
    st.from_regex(r"/[A-Za-z0-9_/@.-]{0,30}", fullmatch=True),
    st.sampled_from(["https://", "http://", ""]),
)
def test_no_link_to_another_platform_is_ever_taken_for_ours(host: str, path: str, scheme: str) -> None:
    with pytest.raises(InvalidInput, match=f"is a {FMT.foreign_hosts[host]} link"):
        parse_targets([(None, f"{scheme}{host}{path}")])


def test_matrix_ids_and_permalinks_are_targets_of_a_matrix_platform() -> None:
    matrix = platform_format("matrix")
    targets = parse_targets(
        [
            (None, "@alice:example.org"),
            (None, "$AbCdEf0123456789"),
            (None, "https://matrix.to/#/@bob:example.org:8448"),
            (None, "https://matrix.to/#/!room:example.org/$AbCdEf0123456789?via=example.org"),
        ],
        matrix,
    )
    assert [(t.kind.value, t.normalised) for t in targets] == [
        ("account_id", "@alice:example.org"),
        ("message_id", "$AbCdEf0123456789"),
        ("account_id", "@bob:example.org:8448"),
    ]
    with pytest.raises(InvalidInput, match="Telegram link"):
        parse_targets([(None, "https://t.me/someone")], matrix)
    with pytest.raises(InvalidInput, match="not a message id"):
        parse_targets([("message_id", "m123")], matrix)


def test_a_webhook_platform_takes_opaque_ids_and_refuses_links_clearly() -> None:
    webhook = platform_format("webhook")
    assert parse_targets([("account_id", "acct-42")], webhook)[0].normalised == "acct-42"
    with pytest.raises(InvalidInput, match="platform's own id"):
        parse_targets([(None, "https://example.org/u/42")], webhook)
