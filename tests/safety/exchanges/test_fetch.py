"""Exchanges: hash lists fetched through python-threatexchange land in banks, resume from
their checkpoint, and match uploads (the issue's 'done when')."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from threatexchange.exchanges import fetch_state
from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.conftest import TEST_ACTOR
from trustdesk.core.errors import Conflict, InvalidInput
from trustdesk.platform.demo import imagery
from trustdesk.safety.banks import service as banks
from trustdesk.safety.banks.lookup import lookup_file
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.banks.models import BankEntry
from trustdesk.safety.exchanges import service
from trustdesk.safety.exchanges.models import FetchState
from trustdesk.safety.signals.hashing import hash_media


@pytest.fixture
def bank_id(db, clock) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return banks.create_bank(session, actor=TEST_ACTOR, clock=clock, name="Shared terror list", policy="terrorism").id


def _exchange(db, clock, bank_id: int, **options) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        service.create_exchange(session, actor=TEST_ACTOR, clock=clock, bank_id=bank_id, **options)


def _entries(db) -> list[BankEntry]:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return list(session.scalars(select(BankEntry).order_by(BankEntry.id)))


def test_a_bank_fetched_from_a_local_file_matches_uploads(db, clock, bank_id, tmp_path: Path) -> None:
    poster = imagery.poster_original()[1]
    signals = tmp_path / "tcap.txt"
    signals.write_text(f"pdq {hash_media(poster).pdq}\nvideo_md5 {'ab' * 16}\n")
    _exchange(db, clock, bank_id, name="tcap-file", api="local_file", config={"filename": str(signals)})
    report = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="tcap-file", credentials={})
    assert report.error is None and report.added == 2 and report.records == 2
    entries = _entries(db)
    assert {(e.signal_type, e.exchange) for e in entries} == {("pdq", "tcap-file"), ("video_md5", "tcap-file")}
    with db.transaction() as session:
        found = lookup_file(session, matcher=MatchService(refresh_seconds=0), data=imagery.poster_resized()[1])
        assert [m.bank for m in found.result.matches] == ["Shared terror list"]
        exchange = service.get_exchange(session, name="tcap-file")
        assert exchange.state == FetchState.OK and exchange.checkpoint == {} and exchange.fetched_total == 2
    again = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="tcap-file", credentials={})
    assert again.added == 0 and len(_entries(db)) == 2


def test_the_library_sample_exchange_fills_a_bank(db, clock, bank_id) -> None:
    _exchange(db, clock, bank_id, name="sample", api="sample")
    report = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="sample", credentials={})
    assert report.error is None
    expected = len(PdqSignal.get_examples())
    assert sum(1 for e in _entries(db) if e.signal_type == "pdq") == expected


def test_a_missing_file_is_a_failed_fetch_that_changes_no_entries(db, clock, bank_id, tmp_path: Path) -> None:
    _exchange(db, clock, bank_id, name="gone", api="local_file", config={"filename": str(tmp_path / "missing.txt")})
    report = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="gone", credentials={})
    assert report.error is not None and "No such file" in report.error
    with db.transaction() as session:
        exchange = service.get_exchange(session, name="gone")
        assert exchange.state == FetchState.FAILED and "No such file" in (exchange.last_error or "")
    assert _entries(db) == []


def test_credentials_come_from_settings(db, clock, bank_id) -> None:
    _exchange(db, clock, bank_id, name="ncmec", api="ncmec", config={"environment": "https://exttest.cybertip.org/hashsharing"})
    report = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="ncmec", credentials={})
    assert report.error is not None and "TRUSTDESK_EXCHANGE_CREDENTIALS" in report.error


def test_bad_exchange_settings_are_refused(db, clock, bank_id) -> None:
    with pytest.raises(InvalidInput, match="Unknown exchange API"):
        _exchange(db, clock, bank_id, name="x", api="nope")
    with pytest.raises(InvalidInput, match="settings are incomplete"):
        _exchange(db, clock, bank_id, name="x", api="local_file")
    _exchange(db, clock, bank_id, name="x", api="sample")
    with pytest.raises(Conflict):
        _exchange(db, clock, bank_id, name="x", api="sample")


@dataclass
class _Page(fetch_state.FetchCheckpointBase):
    page: int = 0


class _Paged(LocalFileSignalExchangeAPI):
    """Three pages of one PDQ hash each; fails on the third the first time round, and the
    last page deletes the first hash again."""

    seen: t.ClassVar[list[int | None]] = []
    fail_once: t.ClassVar[bool] = True

    @classmethod
    def get_name(cls) -> str:
        return "paged"

    @staticmethod
    def get_checkpoint_cls() -> type[_Page]:
        return _Page

    def fetch_iter(self, _types, checkpoint):  # type: ignore[no-untyped-def]
        start = checkpoint.page if checkpoint else 0
        type(self).seen.append(start)
        for page in range(start, 3):
            if page == 2 and type(self).fail_once:
                type(self).fail_once = False
                raise ConnectionError("exchange went away")
            updates = {("pdq", f"{page + 1:x}" * 64): fetch_state.FetchedSignalMetadata()}
            if page == 2:
                updates[("pdq", "1" * 64)] = None
            yield fetch_state.FetchDelta(updates, _Page(page + 1))


def test_a_fetch_resumes_from_its_checkpoint(db, clock, bank_id, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(service.APIS, "paged", _Paged)
    _exchange(db, clock, bank_id, name="paged", api="paged", config={"filename": str(tmp_path / "unused")})
    first = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="paged", credentials={})
    assert first.error == "ConnectionError: exchange went away" and first.added == 2
    second = service.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="paged", credentials={})
    assert second.error is None and second.added == 1 and second.disabled == 1
    assert _Paged.seen == [0, 2]
    assert [(e.value[0], e.enabled) for e in _entries(db)] == [("1", False), ("2", True), ("3", True)]
