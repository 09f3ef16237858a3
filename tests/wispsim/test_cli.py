"""`trustdesk wisp simulate` as separate processes: `pki` writes the certificates, `serve`
checks a provider's calls, `send` sends a form, `check` reports the verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wispsim import calls
from tests.wispsim.process import Simulator, simulate
from tests.wispsim.test_server import Provider, provider_client
from trustdesk_wispsim import pki
from trustdesk_wispsim.ledger import Ledger


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    folder = tmp_path_factory.mktemp("pki")
    result = simulate("pki", str(folder))
    assert result.returncode == 0, result.stderr
    return pki.Pki(folder)


@pytest.fixture
def simulator(certs: pki.Pki, tmp_path: Path) -> Iterator[tuple[Simulator, Provider]]:
    provider = Provider(certs)
    sim = Simulator(certs, tmp_path / "state", provider_url=provider.url)
    sim.start()
    yield sim, provider
    sim.stop()
    provider.httpd.shutdown()
    provider.httpd.server_close()


def test_pki_writes_a_ca_and_both_sides_certificates(certs: pki.Pki) -> None:
    assert certs.ca.exists()
    for stem in pki.CERTIFICATES:
        assert certs.cert(stem).exists() and certs.key(stem).stat().st_mode & 0o077 == 0


def test_send_then_an_outcome_is_checked_acknowledged_and_reported(simulator: tuple[Simulator, Provider], certs: pki.Pki) -> None:
    sim, provider = simulator
    sent = simulate("send", "production", "--to", provider.url, "--pki", str(certs.folder), "--state", str(sim.state))
    assert sent.returncode == 0, sent.stderr
    assert [path for path, _ in provider.received] == ["/eevidence/production"]
    order = Ledger(sim.state).orders()
    ((aid, state),) = order.items()
    with provider_client(certs) as client:
        good = client.post(f"{sim.url}/outcome", content=calls.outcome(aid, state.task_ids[0]))
        bad = client.post(f"{sim.url}/nonexecution", content=calls.nonexecution(aid, "Busy", b"%PDF-1.7"))
    assert (good.status_code, bad.status_code) == (200, 400)
    report = simulate("check", "--state", str(sim.state))
    assert report.returncode == 1
    assert "outcome" in report.stdout and "no reason from the ten" in report.stdout


def test_send_reports_a_refusal(simulator: tuple[Simulator, Provider], certs: pki.Pki) -> None:
    sim, _ = simulator
    # the simulator's own server is no provider: it answers 400 to a production order
    sent = simulate("send", "production", "--to", sim.url, "--pki", str(certs.folder), "--state", str(sim.state))
    assert sent.returncode == 1 and "WISP has no endpoint" in sent.stderr
