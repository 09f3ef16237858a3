"""Banks and entries: what an administrator relies on when building hash lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.safety.banks import service
from trustdesk.safety.banks.models import BankEntry, BankEntryChange
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.banks.signals import normalise

PDQ = "f" * 64
MD5 = "0" * 31 + "1"


def _audit_count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_bank_takes_its_dsa_category_from_its_policy(session, clock) -> None:
    bank = make_bank(session, clock, labels=["TCAP", "tvec", "TCAP"])
    assert bank.policy == "terrorism"
    assert bank.dsa_category == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert bank.labels == ["TCAP", "tvec"] and bank.threshold == 31 and bank.rollout_percent == 100


def test_bad_bank_settings_are_refused_and_change_nothing(session, clock) -> None:
    before = _audit_count(session)
    with pytest.raises(InvalidInput, match="policy"):
        make_bank(session, clock, policy="no_such_policy")
    with pytest.raises(InvalidInput, match="names the platform policy"):
        make_bank(session, clock, policy=None)
    with pytest.raises(InvalidInput, match="threshold"):
        make_bank(session, clock, threshold=65)
    with pytest.raises(InvalidInput, match="percentage"):
        make_bank(session, clock, rollout_percent=101)
    with pytest.raises(InvalidInput, match="name"):
        make_bank(session, clock, name="   ")
    assert _audit_count(session) == before
    assert service.list_banks(session) == []


def test_a_negative_bank_needs_no_policy(session, clock) -> None:
    bank = make_bank(session, clock, name="Known false positives", kind="negative")
    assert bank.kind == "negative" and bank.policy is None and bank.dsa_category is None


def test_bank_names_are_unique(session, clock) -> None:
    make_bank(session, clock)
    with pytest.raises(Conflict, match="exists already"):
        make_bank(session, clock)


def test_unknown_bank_is_not_found(session, clock) -> None:
    with pytest.raises(NotFound):
        service.get_bank(session, bank_id=999)
    with pytest.raises(NotFound, match="No bank named 'nope'"):
        service.get_bank_by_name(session, name="nope")
    with pytest.raises(NotFound):
        service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=999, entries=[NewEntry("pdq", PDQ)])


def test_entries_are_added_once_and_audited(session, clock) -> None:
    bank = make_bank(session, clock)
    first = service.add_entries(
        session,
        actor=TEST_ACTOR,
        clock=clock,
        bank_id=bank.id,
        entries=[NewEntry("pdq", PDQ.upper(), notes="poster"), NewEntry("md5", MD5)],
    )
    assert [e.value for e in first.added] == [PDQ, MD5] and first.skipped == 0
    again = service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", PDQ)])
    assert again.added == [] and again.skipped == 1
    [summary] = service.list_banks(session)
    assert summary.entries == 2 and summary.by_signal == {"pdq": 1, "md5": 1}
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "bank")).all()
    assert actions == ["bank.create", "bank.entries.add"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (NewEntry("pdq", "f" * 63), "64 hex digits"),
        (NewEntry("pdq", "g" * 64), "0-9 and a-f"),
        (NewEntry("md5", "z" * 32), "hexadecimal"),
        (NewEntry("sha256", "a" * 32), "has 64 hex digits"),
        (NewEntry("tmk", "a" * 32), "Unknown signal type"),
    ],
)
def test_a_bad_hash_in_a_batch_changes_nothing(session, clock, entry, message) -> None:
    bank = make_bank(session, clock)
    before = _audit_count(session)
    with pytest.raises(InvalidInput, match=message) as raised:
        service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", PDQ), entry])
    assert "Entry 2" in raised.value.detail
    assert session.scalar(select(func.count()).select_from(BankEntry)) == 0
    assert _audit_count(session) == before


def test_an_empty_list_is_refused(session, clock) -> None:
    bank = make_bank(session, clock)
    with pytest.raises(InvalidInput, match="empty"):
        service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[])


def test_disabling_entries_needs_a_reason_and_is_logged_for_matchers(session, clock) -> None:
    bank = make_bank(session, clock)
    [entry] = service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", PDQ)]).added
    with pytest.raises(InvalidInput, match="reason"):
        service.set_entries_enabled(
            session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason=" "
        )
    changed = service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason="false positive"
    )
    assert changed == [entry] and not entry.enabled
    kinds = session.scalars(select(BankEntryChange.kind).order_by(BankEntryChange.id)).all()
    assert kinds == ["created", "state"]
    with pytest.raises(NotFound):
        service.set_entries_enabled(
            session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id + 100], enabled=False, reason="x"
        )


def test_update_bank_records_only_what_changed(session, clock) -> None:
    bank = make_bank(session, clock)
    service.update_bank(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, threshold=20, enabled=False, reason="tighten")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "bank.update")).one()
    assert entry.details == {"threshold": [31, 20], "enabled": [True, False]}


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64))
def test_any_64_hex_digits_are_a_pdq_hash_in_lowercase(text: str) -> None:
    assert normalise("pdq", f"  {text} ") == text.lower()


@given(st.text(max_size=80).filter(lambda s: len(s.strip()) != 32 or any(c not in "0123456789abcdefABCDEF" for c in s.strip())))
def test_anything_else_is_not_an_md5(text: str) -> None:
    with pytest.raises(InvalidInput):
        normalise("md5", text)
