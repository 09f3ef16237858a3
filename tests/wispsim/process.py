"""The WISP simulator as a separate process (`trustdesk wisp simulate serve`), for the tests
and benchmarks that drive it over real TLS on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from trustdesk_wispsim import pki
from trustdesk_wispsim.client import client_context

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def trustdesk() -> list[str]:
    return [str(Path(sys.executable).with_name("trustdesk"))]


def env() -> dict[str, str]:
    """This checkout's src first, whichever one the venv was installed from."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}


def simulate(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*trustdesk(), "wisp", "simulate", *args], env=env(), capture_output=True, text=True, timeout=timeout)


@dataclass
class Simulator:
    certs: pki.Pki
    state: Path
    provider_url: str | None = None
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 60.0) -> None:
        command = [*trustdesk(), "wisp", "simulate", "serve", "--pki", str(self.certs.folder), "--state", str(self.state)]
        command += ["--port", str(self.port), *self.extra]
        if self.provider_url:
            command += ["--provider-url", self.provider_url]
        self.state.mkdir(parents=True, exist_ok=True)
        log = (self.state / "serve.log").open("ab")
        self.process = subprocess.Popen(command, env=env(), stdout=log, stderr=subprocess.STDOUT)
        verify = client_context(ca=self.certs.ca, cert=self.certs.cert("provider-client"), key=self.certs.key("provider-client"))
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the simulator exited; see {self.state / 'serve.log'}")
            try:
                if httpx.get(self.url + "/healthz", verify=verify, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the simulator was not ready in {ready_timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
