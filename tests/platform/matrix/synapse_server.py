"""A real Synapse homeserver for tests and benchmarks: its own virtualenv (`make synapse`),
a fresh data directory, SQLite, listening on 127.0.0.1 only on a free port, registration by
the admin shared-secret API, and the Trustdesk module enabled when asked."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import patience

REPO = Path(__file__).resolve().parents[3]
SYNAPSE_PYTHON = Path(os.environ.get("TRUSTDESK_SYNAPSE_PYTHON", REPO / ".venv-synapse" / "bin" / "python"))
SERVER_NAME = "trustdesk.test"

LOG_CONFIG = """version: 1
formatters: {precise: {format: '%(asctime)s %(name)s %(levelname)s %(message)s'}}
handlers: {file: {class: logging.FileHandler, formatter: precise, filename: LOGFILE}}
loggers: {synapse.storage.SQL: {level: WARNING}, trustdesk: {level: DEBUG}}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(data: Path, port: int, secret: str, module: dict[str, Any] | None) -> dict[str, Any]:
    generous = {"per_second": 10000, "burst_count": 10000}
    config: dict[str, Any] = {
        "server_name": SERVER_NAME,
        "pid_file": str(data / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
        "log_config": str(data / "log.yaml"),
        "media_store_path": str(data / "media"),
        "signing_key_path": str(data / "signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_metrics": False,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "redaction_retention_period": "7d",
        **{key: generous for key in ("rc_message", "rc_admin_redaction", "rc_joins", "rc_invites", "rc_media_create")},
        "rc_login": {"address": generous, "account": generous, "failed_attempts": generous},
        "rc_registration": generous,
        "modules": [module] if module else [],
    }
    return config


@dataclass
class SynapseServer:
    data: Path
    module_config: dict[str, Any] | None = None
    port: int = field(default_factory=free_port)
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{SERVER_NAME}"

    def start(self) -> None:
        import json  # YAML is a superset of JSON: no YAML writer needed on our side

        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "log.yaml").write_text(LOG_CONFIG.replace("LOGFILE", str(self.data / "homeserver.log")))
        config_path = self.data / "homeserver.yaml"
        config_path.write_text(json.dumps(_config(self.data, self.port, self.secret, self.module_config)))
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        subprocess.run(
            [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config_path), "--generate-keys"],
            check=True,
            env=env,
            capture_output=True,
        )
        self.process = subprocess.Popen(
            [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config_path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.data / "stderr.log", "wb"),
        )
        self._wait_healthy()

    def _wait_healthy(self, seconds: float = 120) -> None:
        seconds = patience(seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=patience(5)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Synapse did not start in {seconds}s: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        text = ""
        for name in ("stderr.log", "homeserver.log"):
            path = self.data / name
            if path.exists():
                text += path.read_text(errors="replace")[-chars:]
        return text

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Register through the shared-secret admin API; returns the access token."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=patience(30)).json()["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"]))
        response = httpx.post(
            endpoint,
            json={"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
            timeout=patience(30),
        )
        response.raise_for_status()
        return response.json()["access_token"]
