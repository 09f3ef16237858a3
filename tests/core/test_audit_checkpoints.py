"""Signed checkpoints of the audit chain: what the chain alone cannot catch (a chain rewritten
with recomputed hashes, reordered, cut short with its head, or emptied) is caught against
them, and the log itself holds (signatures, key rotation, its own links)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from tests.conftest import TEST_ACTOR
from trustdesk.core import audit, migrate
from trustdesk.core.audit import checkpoints
from trustdesk.core.audit.checkpoints import Anchor, ChainDiverged, CheckpointLogError
from trustdesk.core.audit.models import AuditEntry, AuditHead
from trustdesk.core.audit.service import _HASHED, GENESIS, _chain_hash
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Permission
from trustdesk.http.container import Container

_CONTENT = [name for name in _HASHED if name not in ("seq", "prev_hash")]


@pytest.fixture
def anchor(tmp_path: Path) -> Anchor:
    return Anchor(key_file=tmp_path / "keys" / "audit-ed25519.key", log=tmp_path / "checkpoints" / checkpoints.LOG_NAME)


def _write(db: Database, clock, n: int, start: int = 0) -> None:
    with db.transaction() as session:
        for i in range(start, start + n):
            audit.record(
                session,
                actor=TEST_ACTOR,
                action="thing.change",
                object_type="thing",
                object_id=i,
                reason=f"r{i}",
                change={"i": i},
                clock=clock,
            )


def _verify(db: Database, anchor: Anchor) -> audit.service.Verification:
    log = checkpoints.read(anchor.log)
    with db.transaction() as session:
        return audit.verify(session, checkpoints=log.checkpoints)


def _rechain(session: Session, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    """What someone with write access to the database does: change entries, then recompute
    every link and hash and the head, so that the chain verifies on its own."""
    rows = [{name: getattr(e, name) for name in _HASHED} for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    edit(rows)
    prev = GENESIS
    session.execute(
        update(AuditEntry).values(entry_hash=AuditEntry.seq.cast(AuditEntry.entry_hash.type))
    )  # free the unique hashes
    for row in rows:
        row["prev_hash"] = prev
        prev = _chain_hash(row)
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == row["seq"])
            .values(**{n: row[n] for n in _HASHED if n != "seq"}, entry_hash=prev)
        )
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=len(rows), last_hash=prev))


def _checkpointed(db: Database, clock, anchor: Anchor, *batches: int) -> None:
    """Entries in batches, a checkpoint after each."""
    done = 0
    for n in batches:
        _write(db, clock, n, start=done)
        done += n
        clock.advance(minutes=60)
        assert checkpoints.take(db, anchor, clock=clock)[1]


def test_a_rewritten_chain_verifies_alone_but_not_against_its_checkpoints(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 3, 3)
    with db.transaction() as session:
        _rechain(session, lambda rows: rows[4].update(reason="nothing to see"))
    with db.transaction() as session:
        assert audit.verify(session).ok  # the database alone is fooled
    result = _verify(db, anchor)
    assert not result.ok and result.first_broken == 4
    assert "entries 4..6 do not recompute to the head signed by checkpoint 6 of" in result.problem


def test_reordered_rows_are_caught_between_the_checkpoints_around_them(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 2, 4)

    def swap(rows: list[dict[str, Any]]) -> None:
        for name in _CONTENT:
            rows[3][name], rows[4][name] = rows[4][name], rows[3][name]

    with db.transaction() as session:
        _rechain(session, swap)
    result = _verify(db, anchor)
    assert not result.ok and result.first_broken == 3 and "entries 3..6" in result.problem and "reordered" in result.problem


def test_a_truncated_tail_with_its_head_moved_back_names_the_missing_entries(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 5)
    with db.transaction() as session:
        kept = session.get(AuditEntry, 3)
        session.execute(delete(AuditEntry).where(AuditEntry.seq > 3))
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_seq=3, last_hash=kept.entry_hash))
    with db.transaction() as session:
        assert audit.verify(session).ok
    result = _verify(db, anchor)
    assert not result.ok and result.first_broken == 4 and result.checked == 3
    assert result.problem.startswith("entries 4..5 are missing: checkpoint 5 of")


def test_an_emptied_chain_with_its_head_wiped_is_an_error_against_a_checkpoint(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 4)
    with db.transaction() as session:
        session.execute(delete(AuditEntry))
        session.execute(delete(AuditHead))
    result = _verify(db, anchor)
    assert not result.ok and result.checked == 0 and result.first_broken == 1
    assert result.problem.startswith("the head row is gone and entries 1..4 are missing")


def test_a_wiped_head_under_entries_is_an_error_even_without_checkpoints(db: Database, clock) -> None:
    _write(db, clock, 3)
    with db.transaction() as session:
        session.execute(delete(AuditHead))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_broken == 4 and result.problem == "the head row is gone"


def test_a_forged_checkpoint_is_named_by_its_line(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 2, 2)
    lines = anchor.log.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["head"] = "a" * 64  # the head of a rewritten chain, under the old signature
    anchor.log.write_text("\n".join([*lines[:2], json.dumps(forged)]) + "\n")
    with pytest.raises(CheckpointLogError, match=r"line 3: the signature does not verify with key"):
        checkpoints.read(anchor.log)


def test_a_checkpoint_removed_from_the_log_breaks_the_next_ones_link(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 1, 1, 1)
    lines = anchor.log.read_text().splitlines()
    anchor.log.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")
    with pytest.raises(CheckpointLogError, match=r"line 3: does not follow the record before it"):
        checkpoints.read(anchor.log)


def test_a_rotated_key_verifies_and_the_old_checkpoints_still_count(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 2)
    old, new = checkpoints.rotate_key(anchor, clock=clock)
    assert old.key_id != new.key_id and new.replaces == old.key_id
    _write(db, clock, 2, start=2)
    checkpoint, _ = checkpoints.take(db, anchor, clock=clock)
    log = checkpoints.read(anchor.log)
    assert [k.key_id for k in log.keys] == [old.key_id, new.key_id]
    assert [(c.seq, c.key_id) for c in log.checkpoints] == [(2, old.key_id), (4, new.key_id)] and checkpoint.key_id == new.key_id
    assert _verify(db, anchor).ok


def test_a_key_not_signed_by_the_one_it_replaces_is_refused(db: Database, clock, anchor: Anchor, tmp_path: Path) -> None:
    _checkpointed(db, clock, anchor, 1)
    intruder = Anchor(key_file=tmp_path / "other.key", log=tmp_path / "other" / checkpoints.LOG_NAME)
    checkpoints.take(db, intruder, clock=clock)  # a log of a key of their own
    theirs = json.loads(intruder.log.read_text().splitlines()[0])
    lines = anchor.log.read_text().splitlines()
    mine = checkpoints.read(anchor.log)
    theirs.update(replaces=mine.key.key_id, prev=mine.last_digest)
    anchor.log.write_text("\n".join([*lines, json.dumps(theirs)]) + "\n")
    with pytest.raises(CheckpointLogError, match=r"line 3: a new key must be signed by the key it replaces"):
        checkpoints.read(anchor.log)


def test_the_key_is_a_private_file_and_the_log_opens_with_it(db: Database, clock, anchor: Anchor) -> None:
    checkpoint, new = checkpoints.take(db, anchor, clock=clock)
    assert new and checkpoint.seq == 0 and checkpoint.head == GENESIS
    assert stat.S_IMODE(anchor.key_file.stat().st_mode) == 0o600 and stat.S_IMODE(anchor.key_file.parent.stat().st_mode) == 0o700
    first = json.loads(anchor.log.read_text().splitlines()[0])
    assert first["type"] == "key" and first["key_id"] == checkpoint.key_id and first["signed_by"] == checkpoint.key_id
    assert checkpoints.take(db, anchor, clock=clock) == (checkpoint, False)  # nothing new: not signed again


def test_a_key_file_that_is_not_the_logs_key_is_refused(db: Database, clock, anchor: Anchor) -> None:
    checkpoints.take(db, anchor, clock=clock)
    anchor.key_file.unlink()
    with pytest.raises(CheckpointLogError, match="is gone"):
        checkpoints.take(db, anchor, clock=clock)
    checkpoints._write_key(anchor.key_file, checkpoints.SigningKey.generate())
    with pytest.raises(CheckpointLogError, match="this is not the deployment's key"):
        checkpoints.take(db, anchor, clock=clock)


def test_a_chain_changed_since_the_last_checkpoint_is_not_signed(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 3)
    with db.transaction() as session:
        _rechain(session, lambda rows: rows[0].update(reason="rewritten"))
    _write(db, clock, 1, start=3)
    before = anchor.log.read_text()
    with pytest.raises(ChainDiverged, match=r"at entry 1: entries 1\.\.3 do not recompute to the head signed by checkpoint 3"):
        checkpoints.take(db, anchor, clock=clock)
    assert anchor.log.read_text() == before


def test_a_torn_last_line_is_not_read_and_is_cut_before_the_next_record(db: Database, clock, anchor: Anchor) -> None:
    _checkpointed(db, clock, anchor, 1)
    with anchor.log.open("a") as fh:
        fh.write('{"type": "checkpoint", "se')  # the machine died mid-write
    assert len(checkpoints.read(anchor.log).records) == 2
    _checkpointed(db, clock, anchor, 1)
    assert [c.seq for c in checkpoints.read(anchor.log).checkpoints] == [1, 2]


def test_checkpoints_are_a_scheduled_job_on_their_setting(container: Container, db: Database, clock) -> None:
    from trustdesk.core.jobs import Scheduler
    from trustdesk.web.jobs import AUDIT_CHECKPOINT, audit_jobs

    _write(db, clock, 2)
    anchor = Anchor.of(container.settings)
    [off] = audit_jobs(container)
    assert off.name == AUDIT_CHECKPOINT and not off.enabled, "audit_checkpoint_every_s = 0 in tests: off"
    container.settings = container.settings.model_copy(update={"audit_checkpoint_every_s": 3600.0})
    [job] = audit_jobs(container)
    scheduler = Scheduler(db, [job], clock=clock)
    assert scheduler.run_due() == [], "the first one comes a minute after start"
    clock.advance(seconds=61)
    [outcome] = scheduler.run_due()
    assert outcome.ok and outcome.summary == "signed checkpoint at entry 2"
    assert checkpoints.read(anchor.log).latest.seq == 2


@pytest.mark.postgres_only
def test_a_checkpoint_signs_only_what_is_committed(fresh_database_url, clock, anchor: Anchor) -> None:
    """A transaction still open (and then rolled back) is not in the checkpoint taken meanwhile."""
    url = fresh_database_url("checkpoints")
    migrate.upgrade(url)
    db = Database.from_url(url)
    try:
        _write(db, clock, 2)
        with db.session() as open_session:
            open_session.begin()
            audit.record(open_session, actor=TEST_ACTOR, action="thing.change", object_type="thing", clock=clock)
            checkpoint, _ = checkpoints.take(db, anchor, clock=clock)
            open_session.rollback()
        assert checkpoint.seq == 2
        assert _verify(db, anchor).ok
        with db.transaction() as session:
            session.execute(text("DELETE FROM audit_entries"))
            session.execute(text("DELETE FROM audit_head"))
        assert not _verify(db, anchor).ok
    finally:
        db.dispose()


def test_the_api_verifies_against_the_deployments_checkpoints(client, staff, container: Container, db: Database, clock) -> None:
    headers = {"Authorization": f"Bearer {staff.token(Permission.AUDIT_READ)}"}
    anchor = Anchor.of(container.settings)
    checkpoint, _ = checkpoints.take(db, anchor, clock=clock)
    body = client.get("/api/v1/audit/verify", headers=headers).json()
    assert body["ok"] is True and body["checkpoints"] == 1
    with db.transaction() as session:
        _rechain(session, lambda rows: rows[0].update(reason="rewritten"))
    body = client.get("/api/v1/audit/verify", headers=headers).json()
    assert body["ok"] is False and body["first_broken"] == 1 and f"checkpoint {checkpoint}" in body["problem"]
    anchor.log.write_text(anchor.log.read_text().replace(checkpoint.head, "0" * 64))
    body = client.get("/api/v1/audit/verify", headers=headers).json()
    assert body["ok"] is False and "line 2: the signature does not verify" in body["problem"]


def test_a_chain_longer_than_a_page_is_walked_page_by_page(db: Database, clock, anchor: Anchor) -> None:
    with db.transaction() as session:
        batch = audit.service.AuditBatch(session, clock=clock)
        for i in range(2500):
            batch.record(actor=TEST_ACTOR, action="thing.change", object_type="thing", object_id=i)
        batch.flush()
    first, _ = checkpoints.take(db, anchor, clock=clock)
    assert first.seq == 2500
    with db.transaction() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2100).values(reason="edited"))
    result, head = audit.service.verify_in_pages(db, checkpoints=checkpoints.read(anchor.log).checkpoints)
    assert not result.ok and result.first_broken == 2100 and result.checked == 2099 and head.seq == 2500
