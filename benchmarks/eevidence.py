"""e-Evidence intake through WISP (issue #17): 1,000 Form 1 messages sent by the WISP
simulator (its own builders and mutual-TLS client, trustdesk_wispsim) to the provider's WISP
listener on loopback; throughput, and p50/p99 from sending to the answer (the answer comes
after the message is stored, the case created and its clock set, in one committed
transaction); and how long an EightHours emergency takes from receipt to on-call paged.

Baseline, in the same run and on the same core: the same orders through the existing
lawful-request API intake (POST /api/v1/lawful-requests, an agency token, plain HTTP on
loopback), served the same way (uvicorn in this process).

The process is pinned to one CPU: server and senders share it, so the figures are a lower
bound of what one core gives the server. Goal: >= 200 messages/s, p99 <= 250 ms, page <= 5 s.

    PYTHONPATH=src .venv/bin/python benchmarks/eevidence.py             # 1,000 messages, 4 senders
    PYTHONPATH=src .venv/bin/python benchmarks/eevidence.py --messages 200 --senders 2
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trustdesk.core import migrate  # noqa: E402
from trustdesk.core.audit import Actor  # noqa: E402
from trustdesk.core.clock import SystemClock  # noqa: E402
from trustdesk.core.database import Database  # noqa: E402
from trustdesk.core.identity import service as identity  # noqa: E402
from trustdesk.core.identity.permissions import Permission, Role, operator_principal  # noqa: E402
from trustdesk.core.paging.port import PageMessage, Pager, Recipient  # noqa: E402
from trustdesk.core.settings import load_settings  # noqa: E402
from trustdesk.http.container import Container  # noqa: E402
from trustdesk.legal import registry  # noqa: E402
from trustdesk.legal.eevidence.api import TlsFiles, WispListener, create_wisp_app  # noqa: E402
from trustdesk.legal.eevidence.identities import Identities, fingerprint  # noqa: E402
from trustdesk.legal.instruments import IssuerKind  # noqa: E402
from trustdesk.platform.demo.adapter import DemoPlatform  # noqa: E402
from trustdesk.web.app import create_app  # noqa: E402
from trustdesk_wispsim import messages, pki  # noqa: E402
from trustdesk_wispsim.client import Sender  # noqa: E402
from trustdesk_wispsim.ledger import Ledger  # noqa: E402

ACTOR = Actor("cli", "benchmark")
SIM = messages.Party("FR", "FR-TJ-PARIS")
PROVIDER = messages.Party("IE", "TRUSTDESK")


class TimedPager(Pager):
    """Records when each page went out (monotonic), by subject."""

    channel = "bench"

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    def send(self, message: PageMessage, recipient: Recipient) -> None:
        self.sent.append((time.monotonic(), message.subject))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(count: int, senders: int, send: Callable[[int], float]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        latencies = list(pool.map(send, range(count)))
    return count / (time.perf_counter() - started), latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    print(
        f"{name:<28} {rate:8.1f} msg/s   p50 {1000 * statistics.median(latencies):7.1f} ms"
        f"   p99 {1000 * percentile(latencies, 99):7.1f} ms   n={len(latencies)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    work = Path(tempfile.mkdtemp(prefix="bench-eevidence-"))
    certs = pki.create(work / "pki")
    url = f"sqlite:///{work / 'trustdesk.db'}"
    migrate.upgrade(url)
    wisp_client = ssl.PEM_cert_to_DER_cert(certs.cert("wisp-client").read_text())
    identity_config = {
        "id": "ie-dublin",
        "member_state": "IE",
        "receiver_id": "TRUSTDESK",
        "wisp_base_url": "https://127.0.0.1:9/unused",
        "wisp_client_cert_sha256": [fingerprint(wisp_client)],
    }
    settings = load_settings(data_dir=work, database_url=url, wisp_identities=[identity_config], session_cookie_secure=False)
    db = Database.from_url(url)
    platform = DemoPlatform.from_url("sqlite://")
    platform.posting.create_account(username="Suspect_One", display_name="Suspect", phone="+33 6 12 00 00 09", country="FR")
    pager = TimedPager()
    container = Container(settings=settings, db=db, clock=SystemClock(), platform=platform, pager=pager)
    clock = SystemClock()
    with db.transaction() as session:
        identity.create_user(
            session,
            actor=ACTOR,
            clock=clock,
            username="oncall",
            display_name="On call",
            email="oncall@example.org",
            password="a long benchmark password 1",
            roles=[Role.ON_CALL],
        )
        agency = registry.create_agency(
            session,
            actor=ACTOR,
            clock=clock,
            code="fr-tj-paris",
            name="Tribunal judiciaire de Paris",
            country="FR",
            kind=IssuerKind.INVESTIGATING_JUDGE,
            email_domains=["justice.invalid"],
            callback_phone="+33 1 99 00 01 01",
            callback_source="benchmark",
        )
        token, _ = identity.create_token(
            session,
            actor=ACTOR,
            clock=clock,
            grantor=operator_principal("benchmark"),
            name="bench-agency",
            scopes=[Permission.PORTAL_SUBMIT],
            days=2,
            agency_id=agency.id,
        )

    port = free_port()
    listener = WispListener(
        create_wisp_app(container, Identities.from_settings(settings.wisp_identities)),
        host="127.0.0.1",
        port=port,
        tls=TlsFiles(certfile=certs.cert("provider-server"), keyfile=certs.key("provider-server"), client_ca_file=certs.ca),
    )
    listener.start()
    ledger = Ledger(work / "wisp")
    local = threading.local()

    def sender() -> Sender:
        if not hasattr(local, "sender"):
            local.sender = Sender.open(
                f"https://127.0.0.1:{port}", ledger, ca=certs.ca, cert=certs.cert("wisp-client"), key=certs.key("wisp-client")
            )
        return local.sender

    def order(priority: messages.Priority) -> messages.Order:
        return messages.Order(
            legal_type="EPOC",
            reference="JI-2026-0042",
            issuing_authority="Juge d'instruction, TJ Paris",
            approver_role=messages.ApproverRole.JUDGE,
            targets=[messages.Target("InternationalE164", "+33612000009")],
            categories=[messages.RequestType.SUBSCRIBER],
            priority=priority,
            emergency=priority is messages.Priority.EIGHT_HOURS,
        )

    def send_wisp(_: int) -> float:
        message = messages.production(order(messages.Priority.TEN_DAYS_ASAP), sender=SIM, receiver=PROVIDER, at=datetime.now(UTC))
        started = time.perf_counter()
        response = sender().send(message)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"WISP intake answered {response.status_code}: {response.text[:300]}")
        return elapsed

    api_port = free_port()
    api = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, container=container),
            host="127.0.0.1",
            port=api_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    threading.Thread(target=api.run, daemon=True).start()
    while not api.started:
        time.sleep(0.05)
    body = {
        "instrument": "eu_epoc",
        "categories": ["subscriber"],
        "elements": {
            "issuing_authority": "Juge d'instruction, TJ Paris",
            "case_reference": "JI-2026-0042",
            "offence": "Extortion (art. 312-1 code pénal)",
            "grounds": "The account sent the threats; subscriber data identify the author.",
        },
        "targets": [{"value": "@Suspect_One"}],
    }

    def send_api(_: int) -> float:
        if not hasattr(local, "api"):
            local.api = httpx.Client(
                base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        started = time.perf_counter()
        response = local.api.post("/api/v1/lawful-requests", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"API intake answered {response.status_code}: {response.text[:300]}")
        return elapsed

    run(20, args.senders, send_wisp)  # warm up both paths (connections, caches)
    run(20, args.senders, send_api)
    wisp_rate, wisp_latency = run(args.messages, args.senders, send_wisp)
    api_rate, api_latency = run(args.messages, args.senders, send_api)

    emergency = messages.production(order(messages.Priority.EIGHT_HOURS), sender=SIM, receiver=PROVIDER, at=datetime.now(UTC))
    before = len(pager.sent)
    started = time.monotonic()
    answered = sender().send(emergency)
    paged = pager.sent[before][0] - started if len(pager.sent) > before else float("nan")

    cpu = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "all"
    print(f"e-Evidence intake, {args.messages} Form 1 messages, {args.senders} senders, pinned to CPU {cpu}, SQLite")
    report("WISP (simulator, mTLS)", wisp_rate, wisp_latency)
    report("baseline: API intake", api_rate, api_latency)
    print(f"EightHours emergency: answered {answered.status_code}, on-call paged {paged:.3f} s after sending (goal <= 5 s)")
    print(
        f"wisp_per_s={wisp_rate:.1f} wisp_p50_ms={1000 * statistics.median(wisp_latency):.1f} "
        f"wisp_p99_ms={1000 * percentile(wisp_latency, 99):.1f} api_per_s={api_rate:.1f} "
        f"api_p99_ms={1000 * percentile(api_latency, 99):.1f} page_s={paged:.3f}"
    )
    listener.stop()
    api.should_exit = True


if __name__ == "__main__":
    main()
