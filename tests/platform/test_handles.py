"""Property tests: however a person writes a username or phone number, the lookup finds it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.platform.handles import normalise_phone, username_key, valid_username

usernames = st.from_regex(r"[a-z0-9_]{3,32}", fullmatch=True)
e164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)


@st.composite
def written_phone(draw: st.DrawFn, number: str) -> str:
    """`number` as people write it: '+', '00' or no prefix, spaces, dashes, dots, brackets."""
    digits = number[1:]
    prefix = draw(st.sampled_from(["+", "00", "", "+ "]))
    pieces, rest = [], digits
    while rest:
        size = draw(st.integers(min_value=1, max_value=4))
        pieces.append(rest[:size])
        rest = rest[size:]
    separators = draw(st.lists(st.sampled_from(["", " ", "-", ".", "  "]), min_size=len(pieces), max_size=len(pieces)))
    body = "".join(sep + piece for sep, piece in zip(separators, pieces, strict=True))
    return f"{draw(st.sampled_from(['', ' ']))}{prefix}{body}{draw(st.sampled_from(['', ' ']))}"


@given(e164.flatmap(lambda number: st.tuples(st.just(number), written_phone(number))))
def test_any_written_form_of_a_phone_normalises_to_e164(case: tuple[str, str]) -> None:
    number, written = case
    assert normalise_phone(written) == number


@given(e164)
def test_normalising_a_phone_is_idempotent(number: str) -> None:
    assert normalise_phone(normalise_phone(number) or "") == number


@given(st.text(max_size=30))
def test_normalise_phone_returns_e164_or_none(raw: str) -> None:
    result = normalise_phone(raw)
    assert result is None or (result.startswith("+") and result[1:].isdigit() and 7 <= len(result) - 1 <= 15)


@given(usernames, st.sampled_from(["", "@"]), st.booleans(), st.sampled_from(["", " ", "\t"]))
def test_username_key_ignores_case_at_sign_and_space(name: str, at: str, upper: bool, pad: str) -> None:
    written = f"{pad}{at}{name.upper() if upper else name}{pad}"
    assert username_key(written) == name and valid_username(written)


@given(st.text(max_size=40))
def test_username_key_is_idempotent(raw: str) -> None:
    assert username_key(username_key(raw)) == username_key(raw)


@given(st.text(alphabet=st.sampled_from(" @\t\u00a0aB_"), max_size=12))
def test_username_key_of_at_signs_and_spaces_is_stable(raw: str) -> None:
    assert username_key(username_key(raw)) == username_key(raw)
