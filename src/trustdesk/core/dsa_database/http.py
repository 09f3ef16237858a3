"""The DSA Transparency Database's HTTP API (`DsaDatabase` over httpx): batches of at most 100
with unique puids, retried with backoff while the service is busy or away (honouring
Retry-After), and 422 rejections split into each statement's own errors."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from trustdesk.core.dsa_database.port import MAX_BATCH, NOT_UNIQUE, BatchOutcome, DsaDatabase, refuse_shared_puids

RETRY_STATUSES = {429, 500, 502, 503, 504}


class HttpDsaDatabase(DsaDatabase):
    """`base_url` like https://transparency.dsa.ec.europa.eu; `token` the platform's API token.
    The httpx client is made on the first call unless one is given."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        http: httpx.Client | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url, self._http = base_url.rstrip("/"), http
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        return self._http

    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        refuse_shared_puids(statements)
        outcome = BatchOutcome()
        for start in range(0, len(statements), MAX_BATCH):
            self._submit_batch(statements[start : start + MAX_BATCH], outcome)
        return outcome

    def exists(self, puid: str) -> bool:
        """GET existing-puid: 302 when the database knows the puid, 404 when not."""
        response = self._send("GET", f"/api/v1/statement/existing-puid/{puid}")
        return response.status_code == 302

    def _submit_batch(self, batch: list[dict[str, Any]], outcome: BatchOutcome) -> None:
        try:
            response = self._send("POST", "/api/v1/statements", json={"statements": batch})
        except httpx.HTTPError as exc:
            outcome.failed.update({s["puid"]: f"no answer after {self.attempts} tries: {type(exc).__name__}" for s in batch})
            return
        if response.status_code == 201:
            for item in response.json().get("statements", []):
                outcome.accepted[item["puid"]] = item.get("uuid", "")
            return
        if response.status_code != 422:
            outcome.failed.update({s["puid"]: f"HTTP {response.status_code}: {response.text[:200]}" for s in batch})
            return
        self._split_rejection(batch, response.json().get("errors", {}), outcome)

    def _split_rejection(self, batch: list[dict[str, Any]], errors: dict[str, list[str]], outcome: BatchOutcome) -> None:
        """A 422 refuses the whole batch: keep each statement's own errors, treat a puid the
        database already holds (an earlier try that timed out) as accepted, resend the rest."""
        per_index: dict[int, dict[str, list[str]]] = {}
        for key, messages in errors.items():
            match = re.match(r"statements\.(\d+)\.(.+)", key)
            if match:
                per_index.setdefault(int(match[1]), {})[match[2]] = messages
        if not per_index:
            outcome.failed.update({s["puid"]: f"rejected without per-statement errors: {errors}" for s in batch})
            return
        rest = []
        for index, statement in enumerate(batch):
            own = per_index.get(index)
            if own is None:
                rest.append(statement)
            elif set(own) == {"puid"} and own["puid"] == [NOT_UNIQUE] and self.exists(statement["puid"]):
                outcome.accepted[statement["puid"]] = ""
            else:
                outcome.rejected[statement["puid"]] = own
        if rest:
            self._submit_batch(rest, outcome)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Retry a busy or unreachable service with exponential backoff (honouring Retry-After)."""
        for attempt in range(self.attempts):
            try:
                response = self.http.request(method, path, headers=self.headers, follow_redirects=False, **kwargs)
            except httpx.TransportError:
                if attempt == self.attempts - 1:
                    raise
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code not in RETRY_STATUSES or attempt == self.attempts - 1:
                return response
            self.sleep(_retry_after(response) or self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
