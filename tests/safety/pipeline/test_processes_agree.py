"""Every process reads the bus settings the same way (issue #19): a served API and a separate
`trustdesk pipeline worker`, both started with non-default bus settings (NATS, a subject prefix
of their own) from the environment alone, hand an event from one to the other. Before the
prefix was a setting, `trustdesk serve` published under the default prefix while the worker
read `TRUSTDESK_PIPELINE_PREFIX`: every event got its 202 and was never handled."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.durability import Deployment
from tests.waiting import patience
from trustdesk.core.bus.nats import NatsBus
from trustdesk.core.database import Database
from trustdesk.core.settings import load_settings
from trustdesk.safety.pipeline.models import HandledEvent

pytestmark = pytest.mark.nats
NATS_URL = "nats://127.0.0.1:4222"


class NatsDeployment(Deployment):
    prefix: str = ""

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "TRUSTDESK_BUS": "nats",
            "TRUSTDESK_NATS_URL": NATS_URL,
            "TRUSTDESK_PIPELINE_PREFIX": self.prefix,
        }


async def _destroy(prefix: str) -> None:
    async with NatsBus(NATS_URL, prefix=prefix) as bus:
        await bus.destroy()


def test_api_and_worker_started_from_the_same_settings_hand_events_over(fresh_database_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    deployment = NatsDeployment(tmp_path, fresh_database_url("agree"))
    deployment.prefix = f"agree_{uuid.uuid4().hex[:10]}"
    deployment.prepare()
    db = Database.from_url(load_settings(data_dir=tmp_path, database_url=deployment.database_url).sqlalchemy_url)
    worker: subprocess.Popen[bytes] | None = None
    try:
        deployment.start()
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "trustdesk", "pipeline", "worker", "--name", "agree", "--batch", "10", "--ack-wait", "5"],
            env=deployment.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        event_id = f"agree-{uuid.uuid4().hex}"
        event = {
            "kind": "message",
            "id": event_id,
            "platform": "demo",
            "actor": "u1001",
            "chat": "c1",
            "chat_kind": "group",
            "message": "m-agree",
            "text": "an ordinary message",
            "occurred_at": "2026-12-01T10:00:00Z",
        }
        response = httpx.post(
            deployment.url + "/api/v1/pipeline/events",
            json={"events": [event]},
            headers={"Authorization": f"Bearer {deployment.ingest_token}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text

        def handled() -> int:
            with db.transaction() as session:
                return (
                    session.scalar(select(func.count()).select_from(HandledEvent).where(HandledEvent.event_id == event_id)) or 0
                )

        deadline = time.monotonic() + patience(120)
        while handled() == 0:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, (
                "the worker never handled the event the API accepted: "
                + (tmp_path / "worker.log").read_text(errors="replace")[-2000:]
            )
            time.sleep(0.2)
        with db.transaction() as session:
            row = session.scalars(select(HandledEvent).where(HandledEvent.event_id == event_id)).one()
        assert row.worker == "agree"  # the separate worker handled it, not the server
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        deployment.stop()
        db.dispose()
        asyncio.run(_destroy(deployment.prefix))
