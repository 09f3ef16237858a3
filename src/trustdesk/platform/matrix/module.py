"""The Synapse module: asks Trustdesk about every message and upload before Synapse stores it,
and streams room events to Trustdesk's ingest API through a durable local spool.

It runs inside Synapse's process and virtualenv, so it imports only the standard library,
Synapse, Twisted and `spool.py`, never Trustdesk's own dependencies. Enable it in
homeserver.yaml (see docs/matrix.md):

    modules:
      - module: trustdesk.platform.matrix.module.TrustdeskModule
        config:
          trustdesk_url: https://trustdesk.example.org
          token: td_...            # a Trustdesk API token with the events:ingest scope
          check_timeout_s: 0.5     # how long a send may wait for Trustdesk's answer
          on_unreachable: allow    # or reject: what a send gets when Trustdesk does not answer
          spool_path: /data/trustdesk-spool.sqlite
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from synapse.api.errors import Codes
from synapse.logging.context import make_deferred_yieldable, run_in_background
from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.util.async_helpers import timeout_deferred
from synapse.util.frozenutils import unfreeze

from trustdesk.platform.matrix.spool import Spool

logger = logging.getLogger(__name__)

CHECK_PATH = "/api/v1/connector/matrix/check"
MEDIA_CHECK_PATH = "/api/v1/connector/matrix/media-check"
EVENTS_PATH = "/api/v1/connector/matrix/events"
CHECKED_TYPES = frozenset({"m.room.message", "m.sticker"})
STREAMED_TYPES = frozenset(
    {"m.room.message", "m.sticker", "m.room.encrypted", "m.room.redaction", "m.room.member", "m.room.encryption", "m.room.create"}
)
REJECT_CODE = Codes.FORBIDDEN


@dataclass(frozen=True)
class ModuleConfig:
    trustdesk_url: str
    token: str
    check_timeout_s: float = 0.5
    on_unreachable: str = "allow"  # allow | reject
    spool_path: str = "trustdesk-spool.sqlite"
    flush_interval_s: float = 0.5
    flush_timeout_s: float = 10.0
    batch_size: int = 100
    media_inline_max_bytes: int = 10 * 1024 * 1024
    streamed_types: frozenset[str] = field(default=STREAMED_TYPES)

    @property
    def fail_open(self) -> bool:
        return self.on_unreachable == "allow"


class TrustdeskModule:
    def __init__(self, config: ModuleConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._spool = Spool(config.spool_path)
        self._headers = {b"Authorization": [f"Bearer {config.token}".encode()]}
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.check_event_for_spam,
            check_media_file_for_spam=self.check_media_file_for_spam,
        )
        api.register_third_party_rules_callbacks(on_new_event=self.on_new_event)
        api.looping_background_call(self.flush, config.flush_interval_s * 1000, desc="trustdesk_flush")

    @staticmethod
    def parse_config(raw: dict[str, Any]) -> ModuleConfig:
        """Synapse calls this at start-up; a bad setting stops Synapse with a clear message."""
        from synapse.module_api.errors import ConfigError

        for key in ("trustdesk_url", "token"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ConfigError(f"trustdesk module: '{key}' is required")
        if raw.get("on_unreachable", "allow") not in ("allow", "reject"):
            raise ConfigError("trustdesk module: 'on_unreachable' must be 'allow' or 'reject'")
        known = set(ModuleConfig.__dataclass_fields__) - {"streamed_types"}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"trustdesk module: unknown settings {sorted(unknown)}")
        return ModuleConfig(**{**raw, "trustdesk_url": raw["trustdesk_url"].rstrip("/")})

    # -- before a message or upload is stored ---------------------------------------------

    async def check_event_for_spam(self, event: Any) -> Any:
        if event.type not in CHECKED_TYPES or not self._api.is_mine(event.sender):
            return NOT_SPAM
        return await self._ask(CHECK_PATH, _event_body(event), subject=event.event_id)

    async def check_media_file_for_spam(self, file: Any, file_info: Any) -> Any:
        if file_info.thumbnail is not None:
            return NOT_SPAM  # the original was checked; its thumbnails say nothing new
        buffer = BytesIO()
        await file.write_chunks_to(buffer.write)
        data = buffer.getvalue()
        body: dict[str, Any] = {
            "media_id": file_info.file_id,
            "server_name": file_info.server_name or self._api.server_name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        if len(data) <= self._config.media_inline_max_bytes:
            body["data_b64"] = base64.b64encode(data).decode()
        return await self._ask(MEDIA_CHECK_PATH, body, subject=file_info.file_id)

    async def _ask(self, path: str, body: dict[str, Any], *, subject: str) -> Any:
        started = time.perf_counter()
        try:
            answer = await self._post(path, body, timeout=self._config.check_timeout_s)
            logger.debug("check of %s answered in %.2f ms", subject, (time.perf_counter() - started) * 1000)
        except Exception as exc:  # any failure to get an answer is "unreachable"
            return self._unreachable(path, body, subject=subject, error=exc)
        if answer.get("verdict") == "block":
            return REJECT_CODE, {"org.trustdesk.reason": str(answer.get("reason", "blocked"))}
        return NOT_SPAM

    def _unreachable(self, path: str, body: dict[str, Any], *, subject: str, error: Exception) -> Any:
        logger.warning(
            "Trustdesk did not answer the check of %s: %s",
            subject,
            type(error).__name__,
            exc_info=logger.isEnabledFor(logging.DEBUG) or None,
        )
        if not self._config.fail_open:
            return REJECT_CODE, {"org.trustdesk.reason": "moderation service unavailable; try again"}
        if path == CHECK_PATH:
            # Let it through, and have Trustdesk screen it once it is back (it may remove it).
            self._spool.put({**body, "unchecked": True})
        return NOT_SPAM

    # -- after an event is stored ---------------------------------------------------------

    async def on_new_event(self, event: Any, _state: Any) -> None:
        if event.type in self._config.streamed_types:
            self._spool.put(_event_body(event))

    async def flush(self) -> None:
        """Deliver the spool in order, a batch at a time; stop at the first failure and keep
        what was not acknowledged for the next round."""
        while items := self._spool.peek(self._config.batch_size):
            try:
                await self._post(EVENTS_PATH, {"events": [i.body for i in items]}, timeout=self._config.flush_timeout_s)
            except Exception as exc:
                self._spool.failed(items)
                logger.info("Trustdesk ingest unavailable, %d events spooled: %s", len(self._spool), type(exc).__name__)
                return
            self._spool.done(items)

    async def _post(self, path: str, body: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        request = run_in_background(
            self._api.http_client.post_json_get_json,
            self._config.trustdesk_url + path,
            body,
            headers=self._headers,
        )
        # ModuleApi has no public clock; timeout_deferred needs Synapse's own.
        limited = timeout_deferred(deferred=request, timeout=timeout, clock=self._api._clock)
        return await make_deferred_yieldable(limited)


def _event_body(event: Any) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "room_id": event.room_id,
        "sender": event.sender,
        "type": event.type,
        "state_key": event.get_state_key(),
        "origin_server_ts": event.origin_server_ts,
        "content": unfreeze(event.content) if event.type != "m.room.encrypted" else {},
        "redacts": event.redacts,
    }
