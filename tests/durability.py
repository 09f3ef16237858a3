"""The durability harness shared by `tests/web/test_durability.py` and
`benchmarks/durability.py`: a real `trustdesk serve` in its own process, bounded concurrent
bursts of pipeline events, notices and lawful requests over HTTP, a SIGKILL in the middle,
a restart, and a check that every request answered 2xx is stored (events: handled, once).

Loopback only; every loop is bounded in count and time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from trustdesk.core.audit import Actor
from trustdesk.core.database import Database
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, operator_principal
from trustdesk.core.settings import load_settings
from trustdesk.legal.models import Agency, LawfulRequest
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice

KINDS = ("event", "notice", "request")
EVENT_BATCH = 20  # events per pipeline request
EPOC_ELEMENTS = {
    "issuing_authority": "Juge d'instruction, TJ Paris",
    "case_reference": "JI-2026-0042",
    "offence": "Extortion (art. 312-1 code pénal)",
    "grounds": "The account sent the threats; subscriber data identify the author.",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _trustdesk() -> str:
    return str(Path(sys.executable).with_name("trustdesk"))


@dataclass
class Deployment:
    """One served Trustdesk: its data directory, database, tokens and the demo's ids."""

    data_dir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    ingest_token: str = ""
    agency_token: str = ""
    target: str = ""
    message_id: str = ""
    process: subprocess.Popen[bytes] | None = None
    marker: str = field(default_factory=lambda: f"Durability {uuid.uuid4().hex[:12]} Ltd")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TRUSTDESK_DATA_DIR": str(self.data_dir),
            "TRUSTDESK_DATABASE_URL": self.database_url,
            "TRUSTDESK_EMERGENCY_SWEEP_S": "0",
            "TRUSTDESK_BUS": "in-process",
            "TRUSTDESK_ORGANISATION_NAME": self.marker,
        }

    def prepare(self) -> None:
        """Migrate, load the demo, and make the tokens the bursts use (as the operator would)."""
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([_trustdesk(), *command], env=self.env(), check=True, capture_output=True, timeout=600)
        db = Database.from_url(load_settings(data_dir=self.data_dir, database_url=self.database_url).sqlalchemy_url)
        actor = Actor("cli", "durability")
        with db.transaction() as session:
            agency = (
                session.scalars(select(Agency).where(Agency.country == "FR").order_by(Agency.id)).first()
                or session.scalars(select(Agency)).first()
            )
            grantor = operator_principal("durability")
            self.ingest_token, _ = identity.create_token(
                session,
                actor=actor,
                clock=_clock(),
                grantor=grantor,
                name="burst-ingest",
                scopes=[Permission.EVENTS_INGEST],
                days=2,
            )
            self.agency_token, _ = identity.create_token(
                session,
                actor=actor,
                clock=_clock(),
                grantor=grantor,
                name="burst-agency",
                scopes=[Permission.PORTAL_SUBMIT],
                days=2,
                agency_id=agency.id,
            )
        db.dispose()

    def start(self, *, ready_timeout: float = 180.0, tries: int = 3) -> None:
        """Serve, and make sure the server answering is this one: on a busy machine another
        test's server can take a free port between choosing and binding it (then this one
        exits, and the other would take the burst). Such a clash moves to a fresh port."""
        for _ in range(tries):
            if self._serve(ready_timeout):
                return
            self.kill()
            self.port = free_port()
        raise RuntimeError(
            f"trustdesk serve did not come up on a port of its own in {tries} tries; see {self.data_dir / 'server.log'}"
        )

    def _serve(self, ready_timeout: float) -> bool:
        log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [_trustdesk(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # most likely the port was taken
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    document = httpx.get(self.url + "/.well-known/lawful-requests.json", timeout=5).json()
                    return document.get("legal_entity") == self.marker and self.process.poll() is None
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"trustdesk serve was not ready within {ready_timeout} s; see {self.data_dir / 'server.log'}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _clock():  # type: ignore[no-untyped-def]
    from trustdesk.core.clock import SystemClock

    return SystemClock()


@dataclass
class Burst:
    """What the clients were told: ids answered 2xx per kind, and how many requests failed."""

    accepted: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unexpected: list[str] = field(default_factory=list)  # 4xx: a harness bug, not the crash
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def total(self) -> int:
        return sum(len(v) for v in self.accepted.values())


def _send(deployment: Deployment, client: httpx.Client, kind: str, n: int) -> tuple[int, str | list[str] | None, str]:
    if kind == "event":  # a platform sends events in batches
        events = [
            {
                "kind": "message",
                "id": f"burst-{uuid.uuid4().hex}",
                "platform": "demo",
                "actor": "u1001",
                "chat": "c1",
                "chat_kind": "group",
                "message": f"m-{n}-{i}",
                "text": f"burst message {n}.{i}",
                "occurred_at": "2026-12-01T10:00:00Z",
            }
            for i in range(EVENT_BATCH)
        ]
        response = client.post(
            "/api/v1/pipeline/events", json={"events": events}, headers={"Authorization": f"Bearer {deployment.ingest_token}"}
        )
        return response.status_code, [e["id"] for e in events] if response.status_code == 202 else None, response.text
    if kind == "notice":
        body = {
            "reason": "spam",
            "subject_kind": "account",
            "subject_id": "u1001",
            "explanation": f"Burst notice {n}.",
            "good_faith": True,
            "notifier_name": "Tom",
            "notifier_email": "tom@example.de",
        }
        response = client.post("/api/v1/notices", json=body)
        return (
            response.status_code,
            response.json().get("id") and str(response.json()["id"]) if response.status_code == 201 else None,
            response.text,
        )
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": EPOC_ELEMENTS,
        "targets": [{"value": deployment.target or "@lena"}],
    }
    response = client.post("/api/v1/lawful-requests", json=body, headers={"Authorization": f"Bearer {deployment.agency_token}"})
    return response.status_code, str(response.json()["request"]["id"]) if response.status_code == 201 else None, response.text


def burst(
    deployment: Deployment,
    *,
    clients: int,
    per_client: int,
    kill_after: int | None = None,
    on_kill: Callable[[], None] | None = None,
) -> Burst:
    """`clients` threads each send `per_client` requests, cycling through the kinds. With
    `kill_after`, the server is SIGKILLed once that many requests have been answered 2xx."""
    result, started = Burst(), time.monotonic()
    killed = threading.Event()

    def client_loop(number: int) -> None:
        with httpx.Client(base_url=deployment.url, timeout=30) as client:
            for n in range(per_client):
                kind = KINDS[(number + n) % len(KINDS)]
                try:
                    status, ident, text = _send(deployment, client, kind, number * per_client + n)
                except (httpx.HTTPError, ValueError):  # the connection died with the server
                    with result.lock:
                        result.refused[kind] += 1
                    if killed.is_set():
                        return
                    continue
                with result.lock:
                    if isinstance(ident, list):
                        result.accepted[kind].extend(ident)
                    elif ident is not None:
                        result.accepted[kind].append(ident)
                    elif status >= 500:
                        result.refused[kind] += 1
                    else:
                        result.unexpected.append(f"{kind}: {status} {text[:300]}")
                    # killed once `kill_after` ids are answered and every kind has one answer: an
                    # event batch answers 25 ids at once, and on a loaded machine three batches
                    # could come back before the first (slower) notice did
                    due = (
                        kill_after is not None
                        and not killed.is_set()
                        and result.total() >= kill_after
                        and all(result.accepted[k] for k in KINDS)
                    )
                if due:
                    killed.set()
                    deployment.kill()
                    if on_kill:
                        on_kill()
                if killed.is_set():
                    return

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    result.seconds = time.monotonic() - started
    return result


def lost(deployment: Deployment, accepted: dict[str, list[str]], *, handled_timeout: float = 120.0) -> dict[str, list[str]]:
    """The ids answered 2xx that are not stored: notices and requests by id; events by
    their handled record, waiting up to `handled_timeout` for the restarted worker."""
    db = Database.from_url(load_settings(data_dir=deployment.data_dir, database_url=deployment.database_url).sqlalchemy_url)
    try:
        with db.transaction() as session:
            notices = {
                str(i) for i in session.scalars(select(Notice.id).where(Notice.id.in_([int(i) for i in accepted["notice"]])))
            }
            requests = {
                str(i)
                for i in session.scalars(
                    select(LawfulRequest.id).where(LawfulRequest.id.in_([int(i) for i in accepted["request"]]))
                )
            }
        missing = {
            "notice": [i for i in accepted["notice"] if i not in notices],
            "request": [i for i in accepted["request"] if i not in requests],
            "event": [],
        }
        deadline = time.monotonic() + handled_timeout
        while True:
            with db.transaction() as session:
                rows = (
                    session.execute(select(HandledEvent.event_id).where(HandledEvent.event_id.in_(accepted["event"])))
                    .scalars()
                    .all()
                )
            handled: dict[str, int] = {}
            for event_id in rows:
                handled[event_id] = handled.get(event_id, 0) + 1
            missing["event"] = [i for i in accepted["event"] if i not in handled]
            if not missing["event"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        doubled = [i for i, n in handled.items() if n > 1]
        if doubled:
            missing["event_doubled"] = doubled
        return missing
    finally:
        db.dispose()


def summary(result: Burst) -> dict[str, Any]:
    return {
        "accepted": {k: len(v) for k, v in result.accepted.items()},
        "refused": result.refused,
        "seconds": round(result.seconds, 2),
        "accepted_per_s": round(result.total() / result.seconds, 1) if result.seconds else 0.0,
    }
