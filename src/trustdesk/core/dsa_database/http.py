"""The DSA Transparency Database's HTTP API (`DsaDatabase` over httpx): batches of at most 100
with unique puids, within the account's rate limits (`limits.RateLimit`), retried with backoff
while the service is busy or away (honouring Retry-After). A 422 refuses the whole batch; it is
taken apart so that only the bad statement stays behind: each statement's own errors where the
API names them (`statements.<i>.<field>` or `statement_<i>`), the puids it already holds where
it lists them (`existing_puids`: counted as submitted, their uuid looked up), and otherwise by
halving the batch until the statement that fails is alone."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from trustdesk.core.dsa_database.limits import RateLimit
from trustdesk.core.dsa_database.port import MAX_BATCH, NOT_UNIQUE, BatchOutcome, DsaDatabase, refuse_shared_puids

RETRY_STATUSES = {429, 500, 502, 503, 504}


class HttpDsaDatabase(DsaDatabase):
    """`base_url` like https://transparency.dsa.ec.europa.eu; `token` the platform's API token.
    The httpx client is made on the first call unless one is given. `limit`: the account's
    rate limits (None: none kept here); `batch_size` 1 sends each statement on its own
    (`POST /api/v1/statement`), the path the batch endpoint replaces."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        http: httpx.Client | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        limit: RateLimit | None = None,
        batch_size: int = MAX_BATCH,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}")
        self.base_url, self._http = base_url.rstrip("/"), http
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep
        self.limit = RateLimit() if limit is None else limit
        self.batch_size = batch_size
        self.requests = 0  # calls made, retries and look-ups included

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        return self._http

    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        refuse_shared_puids(statements)
        outcome = BatchOutcome()
        for start in range(0, len(statements), self.batch_size):
            batch = statements[start : start + self.batch_size]
            if self.batch_size == 1:
                self._submit_one(batch[0], outcome)
            else:
                self._submit_batch(batch, outcome)
        return outcome

    def exists(self, puid: str) -> bool:
        """GET existing-puid: 302 when the database knows the puid, 404 when not."""
        return self.held(puid) is not None

    def held(self, puid: str) -> str | None:
        """GET existing-puid: the uuid from the 302's Location ('' without one), None on 404."""
        response = self._send("GET", f"/api/v1/statement/existing-puid/{puid}")
        if response.status_code != 302:
            return None
        location = response.headers.get("Location", "")
        return location.rstrip("/").rsplit("/", 1)[-1] if "/statement/" in location else ""

    def _submit_one(self, statement: dict[str, Any], outcome: BatchOutcome) -> None:
        puid = statement["puid"]
        try:
            response = self._send("POST", "/api/v1/statement", json=statement)
        except httpx.HTTPError as exc:
            outcome.failed[puid] = f"no answer after {self.attempts} tries: {type(exc).__name__}"
            return
        if response.status_code == 201:
            outcome.accepted[puid] = response.json().get("uuid", "")
        elif response.status_code != 422:
            outcome.failed[puid] = f"HTTP {response.status_code}: {response.text[:200]}"
        else:
            errors = _field_errors(response.json().get("errors", {}))
            held = self.held(puid) if set(errors) <= {"puid"} else None
            if held is not None:
                outcome.accepted[puid] = held
            else:
                outcome.rejected[puid] = errors or {"statement": ["rejected without a reason given"]}

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

    def _split_rejection(self, batch: list[dict[str, Any]], errors: dict[str, Any], outcome: BatchOutcome) -> None:
        """A 422 refuses the whole batch and stores none of it: keep the bad statements' own
        errors, count the puids the database already holds (an earlier try that got no answer
        went through) as submitted, and send the rest again."""
        known = errors.get("existing_puids")
        held = {str(p) for p in known} & {s["puid"] for s in batch} if isinstance(known, list) else set()
        if held:
            for puid in sorted(held):
                outcome.accepted[puid] = self.held(puid) or ""
            rest = [s for s in batch if s["puid"] not in held]
        else:
            per_index = _per_statement(errors)
            if not per_index:
                self._bisect(batch, errors, outcome)
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

    def _bisect(self, batch: list[dict[str, Any]], errors: dict[str, Any], outcome: BatchOutcome) -> None:
        """A refusal that names no statement: halve the batch until the bad one is alone."""
        if len(batch) == 1:
            outcome.rejected[batch[0]["puid"]] = _field_errors(errors) or {"statement": [f"rejected: {errors}"[:500]]}
            return
        middle = len(batch) // 2
        self._submit_batch(batch[:middle], outcome)
        self._submit_batch(batch[middle:], outcome)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Retry a busy or unreachable service with exponential backoff (honouring Retry-After)."""
        for attempt in range(self.attempts):
            if self.limit is not None:
                self.limit.wait()
            self.requests += 1
            try:
                response = self.http.request(method, path, headers=self.headers, follow_redirects=False, **kwargs)
            except httpx.TransportError:
                if attempt == self.attempts - 1:
                    raise
                self.sleep(self.backoff * 2**attempt)
                continue
            finally:
                if self.limit is not None:
                    self.limit.answered()
            if response.status_code not in RETRY_STATUSES or attempt == self.attempts - 1:
                return response
            self.sleep(_retry_after(response) or self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _per_statement(errors: dict[str, Any]) -> dict[int, dict[str, list[str]]]:
    """Errors by the statement's place in the batch: `statements.<i>.<field>` (Laravel's
    nested validation) or `statement_<i>` -> field -> messages (the batch endpoint's own)."""
    per_index: dict[int, dict[str, list[str]]] = {}
    for key, messages in errors.items():
        nested = re.fullmatch(r"statements\.(\d+)\.(.+)", key)
        if nested:
            per_index.setdefault(int(nested[1]), {})[nested[2]] = list(messages)
            continue
        flat = re.fullmatch(r"statement_(\d+)", key)
        if flat and isinstance(messages, dict):
            per_index.setdefault(int(flat[1]), {}).update(_field_errors(messages))
    return per_index


def _field_errors(errors: Any) -> dict[str, list[str]]:
    if not isinstance(errors, dict):
        return {}
    return {str(k): [str(m) for m in v] for k, v in errors.items() if isinstance(v, list) and k != "existing_puids"}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
