"""Durability end to end: a real `trustdesk serve` (SQLite file or PostgreSQL, the embedded
bus with its journal) takes concurrent bursts of pipeline events, notices and lawful
requests, is SIGKILLed in the middle, and restarts; every request that was answered 2xx is
then stored, and every accepted event is handled exactly once. `benchmarks/durability.py`
runs the same harness for figures."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.durability import Deployment, burst, lost

pytestmark = pytest.mark.durability


def test_nothing_answered_2xx_is_lost_when_the_server_is_killed(fresh_database_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    deployment = Deployment(data_dir=tmp_path, database_url=fresh_database_url("durability"))
    deployment.prepare()
    deployment.start()
    try:
        result = burst(deployment, clients=4, per_client=60, kill_after=60)
        assert deployment.process is not None and deployment.process.returncode == -signal.SIGKILL
        assert result.unexpected == []
        assert all(result.accepted[kind] for kind in ("event", "notice", "request")), result.accepted
        deployment.start()  # the restarted worker takes up what the journal still holds
        assert lost(deployment, result.accepted) == {"notice": [], "request": [], "event": []}
    finally:
        deployment.stop()
