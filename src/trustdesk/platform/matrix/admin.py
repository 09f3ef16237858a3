"""A thin client for the parts of Synapse's admin and client APIs the adapter uses, as one
server-admin account ("the moderation bot"). Translates HTTP failures into the port's errors:
404 into `LookupError`, anything else into `PlatformError` with Synapse's own words."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from trustdesk.platform.port import PlatformError


class SynapseAdmin:
    def __init__(
        self, *, base_url: str, token: str, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport, headers={"Authorization": f"Bearer {token}"}
        )

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, *, missing: str | None = None, **kwargs: Any) -> Any:
        """One request; `missing` names the thing for the LookupError a 404 becomes."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PlatformError(f"Synapse unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404 and missing is not None:
            raise LookupError(f"Synapse has no {missing}")
        if response.status_code == 400 and missing is not None and "M_INVALID_PARAM" in response.text:
            raise LookupError(f"Synapse has no {missing}")
        if not response.is_success:
            raise PlatformError(f"Synapse answered {response.status_code}: {_error(response)}")
        return response.json() if response.content else {}

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._http.request(method, path, **kwargs)

    # -- users ------------------------------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/_synapse/admin/v2/users/{q(user_id)}", missing=f"user {user_id}")

    def user_by_threepid(self, medium: str, address: str) -> str | None:
        try:
            found = self.call("GET", f"/_synapse/admin/v1/threepid/{medium}/users/{q(address)}", missing="user")
        except LookupError:
            return None
        return found.get("user_id")

    def joined_rooms(self, user_id: str) -> list[str]:
        path = f"/_synapse/admin/v1/users/{q(user_id)}/joined_rooms"
        return self.call("GET", path, missing=f"user {user_id}")["joined_rooms"]

    def whois(self, user_id: str) -> dict[str, Any]:
        return self.call("GET", f"/_synapse/admin/v1/whois/{q(user_id)}", missing=f"user {user_id}")

    def account_data(self, user_id: str) -> dict[str, Any]:
        path = f"/_synapse/admin/v1/users/{q(user_id)}/accountdata"
        return self.call("GET", path, missing=f"user {user_id}")["account_data"]

    # -- rooms and events -------------------------------------------------------------------

    def room(self, room_id: str) -> dict[str, Any]:
        return self.call("GET", f"/_synapse/admin/v1/rooms/{q(room_id)}", missing=f"room {room_id}")

    def room_state(self, room_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/_synapse/admin/v1/rooms/{q(room_id)}/state", missing=f"room {room_id}")["state"]

    def room_members(self, room_id: str) -> list[str]:
        return self.call("GET", f"/_synapse/admin/v1/rooms/{q(room_id)}/members", missing=f"room {room_id}")["members"]

    def event(self, event_id: str) -> dict[str, Any]:
        path = f"/_synapse/admin/v1/fetch_event/{q(event_id)}"
        return self.call("GET", path, missing=f"event {event_id}")["event"]

    def messages(self, room_id: str, *, sender: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Every message event of a room, oldest first (paged by Synapse's tokens)."""
        params: dict[str, Any] = {"dir": "f", "limit": min(limit, 1000)}
        if sender:
            params["filter"] = json.dumps({"senders": [sender]})
        out: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", f"/_synapse/admin/v1/rooms/{q(room_id)}/messages", params=params, missing=f"room {room_id}")
            out.extend(page.get("chunk", []))
            if not page.get("end") or not page.get("chunk") or len(out) >= limit:
                return out[:limit]
            params["from"] = page["end"]

    def context(self, room_id: str, event_id: str, *, limit: int) -> dict[str, Any]:
        path = f"/_synapse/admin/v1/rooms/{q(room_id)}/context/{q(event_id)}"
        return self.call("GET", path, params={"limit": limit}, missing=f"event {event_id}")

    def redact(self, room_id: str, event_id: str, *, reason: str) -> str:
        path = f"/_matrix/client/v3/rooms/{q(room_id)}/redact/{q(event_id)}/{uuid.uuid4().hex}"
        return self.call("PUT", path, json={"reason": reason})["event_id"]

    def make_room_admin(self, room_id: str, user_id: str) -> None:
        self.call("POST", f"/_synapse/admin/v1/rooms/{q(room_id)}/make_room_admin", json={"user_id": user_id})

    def event_reports_newest_first(self, *, page_size: int = 100, overlap: int = 5) -> Iterator[list[dict[str, Any]]]:
        """Every user report, a page at a time, the newest first. Synapse orders them by the
        time received and pages by offset (`from`, `next_token`), with no way to ask for those
        after a given id: a reader that wants the new ones reads from the newest back. Pages
        overlap by `overlap` reports, so that one at a page's edge is not missed when a report
        is deleted meanwhile or reports received in the same millisecond change places; the
        reader drops the repeats by id."""
        overlap = max(0, min(overlap, page_size - 1))
        start = 0
        while True:
            page = self.call("GET", "/_synapse/admin/v1/event_reports", params={"dir": "b", "from": start, "limit": page_size})
            reports = page.get("event_reports", [])
            if reports:
                yield reports
            if not reports or page.get("next_token") is None:
                return
            start = max(int(page["next_token"]) - overlap, start + 1)

    def media(self, server_name: str, media_id: str) -> bytes:
        path = f"/_matrix/client/v1/media/download/{q(server_name)}/{q(media_id)}"
        response = self.raw("GET", path)
        if response.status_code == 404:
            raise LookupError(f"Synapse has no media {server_name}/{media_id}")
        if not response.is_success:
            raise PlatformError(f"Synapse answered {response.status_code}: {_error(response)}")
        return response.content


def q(value: str) -> str:
    return quote(value, safe="")


def _error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return f"{body.get('errcode', '')} {body.get('error', '')}".strip()
