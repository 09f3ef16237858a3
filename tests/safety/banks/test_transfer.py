"""Import and export: CSV and python-threatexchange's signal file format, round trip."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.banks import service, transfer

PDQ = "a" * 64
SHA = "b" * 64


def _import(session, clock, bank, data: bytes, fmt: str):  # type: ignore[no-untyped-def]
    return service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=transfer.parse(data, fmt=fmt))


def test_csv_round_trip(session, clock) -> None:
    bank = make_bank(session, clock)
    _import(session, clock, bank, f"signal_type,value,notes\npdq,{PDQ},poster v1\nsha256,{SHA.upper()},\n".encode(), "csv")
    exported = "".join(transfer.export(session, bank_id=bank.id, fmt="csv"))
    other = make_bank(session, clock, name="copy")
    result = _import(session, clock, other, exported.encode(), "csv")
    assert [(e.signal_type, e.value, e.notes) for e in result.added] == [("pdq", PDQ, "poster v1"), ("sha256", SHA, "")]


def test_threatexchange_format_round_trip(session, clock) -> None:
    bank = make_bank(session, clock)
    text = f"# from a partner\npdq {PDQ}\nvideo_md5 {'c' * 32}\nvideo_sha256 {SHA}\n"
    added = _import(session, clock, bank, text.encode(), "threatexchange").added
    assert sorted(e.signal_type for e in added) == ["pdq", "sha256", "video_md5"]
    exported = "".join(transfer.export(session, bank_id=bank.id, fmt="threatexchange"))
    assert sorted(exported.splitlines()) == sorted(text.splitlines()[1:])


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", "csv", "empty"),
        (b"value\nabc\n", "csv", "signal_type"),
        (b"signal_type,value\npdq,xyz\n", "csv", "Entry 1"),
        (b"\xff\xfe\x00", "csv", "UTF-8"),
        (b"tmk 123\n", "threatexchange", "unknown signal type"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(session, clock, data: bytes, fmt: str, message: str) -> None:
    bank = make_bank(session, clock)
    with pytest.raises(InvalidInput, match=message):
        _import(session, clock, bank, data, fmt)
    assert service.list_banks(session)[0].entries == 0
