"""End to end (issue #17): the WISP simulator, a separate process, sends an EPOC and an EPOC-PR
over mutual TLS on loopback to a served Trustdesk (the WISP listener of the adapter); the
cases go through the policy decision, four eyes and delivery (`outcome`, checked and
acknowledged by the simulator with `deliverystatus`); the preservation is confirmed
(`datapreserved`); a signed Form 3 goes back (`nonexecution`); and the simulator's checks
pass on every call it received."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import Desk
from tests.wispsim.process import Simulator, free_port, simulate
from trustdesk.core import migrate
from trustdesk.core.blobs import InMemoryBlobStore
from trustdesk.core.clock import SystemClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.legal.disclosure import packages, retrieval
from trustdesk.legal.disclosure.models import Disclosure
from trustdesk.legal.eevidence import form3, outbox
from trustdesk.legal.eevidence.api import TlsFiles, WispListener, create_wisp_app
from trustdesk.legal.eevidence.identities import Identities, fingerprint
from trustdesk.legal.eevidence.models import Order, OrderTask, OutboundMessage
from trustdesk.legal.models import LawfulRequest
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import DataCategory
from trustdesk_wispsim import pki
from trustdesk_wispsim.ledger import Ledger

ACTOR = TEST_ACTOR


@dataclass
class Served:
    db: Database
    container: Container
    identities: Identities
    sim: Simulator
    certs: pki.Pki
    provider_url: str
    pades: form3.PadesKey
    data_dir: Path
    transport: outbox.HttpxTransport

    def send(self, *args: str) -> str:
        result = simulate(
            "send", *args, "--to", self.provider_url, "--pki", str(self.certs.folder), "--state", str(self.sim.state)
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def flush_outbox(self) -> list[int]:
        return outbox.send_due(
            self.db,
            identities=self.identities,
            transport=self.transport,
            clock=self.container.clock,
            max_attempts=3,
            first_backoff_s=60,
        )

    def order(self, authorisation_id: str) -> tuple[Order, LawfulRequest, list[OrderTask]]:
        with self.db.read() as session:
            order = session.scalar(select(Order).where(Order.authorisation_id == authorisation_id))
            assert order is not None
            request = session.get(LawfulRequest, order.request_id)
            tasks = list(session.scalars(select(OrderTask).where(OrderTask.order_id == order.id)))
            assert request is not None
            return order, request, tasks


@pytest.fixture
def served(tmp_path: Path, fresh_database_url: Callable[[str], str]) -> Iterator[Served]:
    folder = tmp_path / "pki"
    assert simulate("pki", str(folder)).returncode == 0
    certs = pki.Pki(folder)
    wisp_client = ssl.PEM_cert_to_DER_cert(certs.cert("wisp-client").read_text())
    url = fresh_database_url("wispe2e")
    migrate.upgrade(url)
    db = Database.from_url(url)
    sim = Simulator(certs, tmp_path / "wisp")
    port = free_port()
    identity = {
        "id": "ie-dublin",
        "member_state": "IE",
        "receiver_id": "TRUSTDESK",
        "wisp_base_url": sim.url,
        "wisp_client_cert_sha256": [fingerprint(wisp_client)],
        "client_cert_file": str(certs.cert("provider-client")),
        "client_key_file": str(certs.key("provider-client")),
        "wisp_ca_file": str(certs.ca),
        "languages": ["en"],
    }
    settings = load_settings(data_dir=tmp_path / "data", database_url=url, wisp_identities=[identity])
    platform = DemoPlatform.from_url("sqlite://")
    platform.posting.create_account(username="Suspect_One", display_name="Suspect", phone="+33 6 12 00 00 09", country="FR")
    container = Container(settings=settings, db=db, clock=SystemClock(), platform=platform, blobs=InMemoryBlobStore())
    identities = Identities.from_settings(settings.wisp_identities)
    listener = WispListener(
        create_wisp_app(container, identities),
        host="127.0.0.1",
        port=port,
        tls=TlsFiles(certfile=certs.cert("provider-server"), keyfile=certs.key("provider-server"), client_ca_file=certs.ca),
    )
    listener.start()
    pades = form3.development_key(tmp_path / "data", organisation="Demo Messenger Ltd")
    sim.provider_url = f"https://127.0.0.1:{port}"
    sim.extra = ("--provider", "IE:TRUSTDESK", "--trust", str(pades.cert_file))
    sim.start()
    transport = outbox.HttpxTransport(timeout_s=10)
    yield Served(db, container, identities, sim, certs, sim.provider_url, pades, tmp_path / "data", transport)
    sim.stop()
    transport.close()
    listener.stop()
    db.dispose()


def wisp_package(disclosure: Disclosure, desk: Desk) -> bytes:
    """The approved disclosure's package: the same retrieval (only the approved accounts,
    categories and period) and the same signed builder as the portal's. The adapter has no
    packaging step for WISP yet (disclosure.service.package needs a portal officer), so the
    test builds it with the same pieces."""
    got = retrieval.collect(
        desk.platform,
        accounts=disclosure.accounts,
        categories=[DataCategory(c) for c in disclosure.categories],
        since=disclosure.period_start,
        until=disclosure.period_end,
    )
    header = {"disclosure": {"id": disclosure.id, "categories": disclosure.categories, "accounts": disclosure.accounts}}
    return packages.build(header=header, files=got.files, not_held=got.not_held, key=desk.key)


def wait_for(check: Callable[[], bool], timeout: float = 20.0, why: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out: {why()}")


def test_an_epoc_and_an_epoc_pr_through_decision_four_eyes_delivery_and_a_signed_form_3(served: Served) -> None:
    ledger = Ledger(served.sim.state)
    # 1. The EPOC: Form 1, ten days, subscriber data of one account.
    served.send("production", "--priority", "TenDaysASAP", "--target", "InternationalE164=+33612000009")
    (epoc_id,) = list(ledger.orders())
    order, request, tasks = served.order(epoc_id)
    assert request.instrument == "eu_epoc" and request.due_at is not None

    # 2. Decision and four eyes: proposed and adopted by one legal officer, prepared by her and
    # approved by another; the package is the minimised, signed one of every lawful request.
    desk = Desk(served.db, served.container.clock, served.container.platform, served.data_dir, served.container.blobs)
    decision = desk.decide(request.id)
    assert decision.outcome not in ("refuse", "clarify"), (decision.refusal_reason, decision.reasons, request.checklist)
    desk.adopt(decision)
    disclosure = desk.approve(desk.prepare(request.id))
    assert disclosure.state == "approved"
    content = wisp_package(disclosure, desk)
    assert packages.verify(content, public_key_b64=desk.key.public_key_b64).ok

    # 3. Delivery: `outcome` through the outbox to the simulator, which checks and acknowledges.
    with served.db.transaction() as session:
        outbox.queue_outcome(
            session,
            actor=ACTOR,
            clock=served.container.clock,
            identities=served.identities,
            order_id=order.id,
            task_id=tasks[0].task_id,
            content=content,
        )
    assert served.flush_outbox()
    wait_for(lambda: any(r.path == "outcome" for r in ledger.received()), why=ledger.received)
    wait_for(lambda: served.order(epoc_id)[2][0].state == "received", why=lambda: ledger.answers()[-1])

    # 4. The EPOC-PR: Form 2; preservation confirmed with `datapreserved`.
    served.send("preservation", "--target", "InternationalE164=+33612000009", "--category", "TrafficData")
    epoc_pr_id = list(ledger.orders())[-1]
    pr_order, pr_request, _ = served.order(epoc_pr_id)
    assert pr_request.instrument == "eu_epoc_pr"
    with served.db.transaction() as session:
        outbox.queue_datapreserved(
            session, actor=ACTOR, clock=served.container.clock, identities=served.identities, order_id=pr_order.id
        )

    # 5. An EPOC for a number the platform does not hold: a signed Form 3 goes back.
    served.send("production", "--target", "InternationalE164=+33699999999")
    unheld_id = list(ledger.orders())[-1]
    unheld, unheld_request, _ = served.order(unheld_id)
    form = form3.Form3(
        authorisation_id=unheld.authorisation_id,
        transaction_id=unheld.transaction_id,
        order_reference=str(unheld_request.id),
        issuing_authority=unheld.issuer,
        provider="Demo Messenger Ltd",
        reasons=(form3.Reason.DATA_NOT_HELD,),
        explanation="No account has the telephone number +33 6 99 99 99 99.",
        prepared_by="1",
        prepared_at=served.container.clock.now(),
    )
    pdf = form3.sign(form, served.pades)
    with served.db.transaction() as session:
        outbox.queue_nonexecution(
            session,
            actor=ACTOR,
            clock=served.container.clock,
            identities=served.identities,
            order_id=unheld.id,
            reason="DataNotHeld",
            signed_pdf=pdf,
            explanation=form.explanation,
        )
    served.flush_outbox()

    # The simulator received outcome, datapreserved and nonexecution, and every one kept its rules.
    wait_for(lambda: len(ledger.received()) >= 3)
    verdicts = [(r.path, r.problems) for r in ledger.received()]
    assert sorted(path for path, _ in verdicts) == ["datapreserved", "nonexecution", "outcome"]
    assert [problems for _, problems in verdicts] == [[], [], []], verdicts
    with served.db.read() as session:
        states = {row.call: row.state for row in session.scalars(select(OutboundMessage))}
    assert set(states.values()) == {"sent"}, states
    assert simulate("check", "--state", str(served.sim.state)).returncode == 0


def test_no_data_leaves_in_the_enforcing_window_until_no_grounds_for_refusal(served: Served) -> None:
    """TenDaysSubjectToEA (Art. 10(2)): the adapter will not queue the data while the window is
    open; once the simulator's enforcing authority says NoGroundsForRefusal it does, and the
    simulator (which checks the window itself) accepts and acknowledges it."""
    ledger = Ledger(served.sim.state)
    served.send("production", "--priority", "TenDaysSubjectToEA", "--target", "InternationalE164=+33612000009")
    (order_id,) = list(ledger.orders())
    order, request, tasks = served.order(order_id)
    desk = Desk(served.db, served.container.clock, served.container.platform, served.data_dir, served.container.blobs)
    decision = desk.decide(request.id)
    desk.adopt(decision)
    content = (
        wisp_package(desk.approve(desk.prepare(request.id)), desk) if decision.outcome not in ("refuse", "clarify") else b"x"
    )

    def queue() -> None:
        with served.db.transaction() as session:
            outbox.queue_outcome(
                session,
                actor=ACTOR,
                clock=served.container.clock,
                identities=served.identities,
                order_id=order.id,
                task_id=tasks[0].task_id,
                content=content,
            )

    with pytest.raises(Conflict):
        queue()
    assert ledger.received() == []
    served.send("groundsforrefusal", "--decision", "No", "--order", order_id)
    queue()
    served.flush_outbox()
    wait_for(lambda: len(ledger.received()) == 1, why=ledger.received)
    assert [(r.path, r.problems) for r in ledger.received()] == [("outcome", [])]
    wait_for(lambda: served.order(order_id)[2][0].state == "received", why=lambda: ledger.answers()[-1])
