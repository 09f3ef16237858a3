"""Request limits (http/limits.py): enforced while the body is read, answered as problems.

The body-size tests drive the app over raw ASGI with a `receive` that counts what it hands
out, so they show what the server read, not only what it answered."""

from __future__ import annotations

import asyncio
import json
import resource
import struct
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.core.identity.permissions import Permission
from trustdesk.core.settings import load_settings
from trustdesk.http.container import Container
from trustdesk.http.limits import BodyClass, classify, json_shape_problem
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.web.app import create_app

PROBLEM = "application/problem+json"
KIB = 1024
JSON_LIMIT = 64 * KIB


@pytest.fixture
def limited(tmp_path, database_url, db, clock, platform) -> Iterator[TestClient]:
    """An app with small limits, so that tests need not send megabytes to pass them."""
    settings = load_settings(
        data_dir=tmp_path,
        database_url=database_url,
        session_cookie_secure=False,
        request_max_json_bytes=JSON_LIMIT,
        request_max_upload_bytes=4 * JSON_LIMIT,
        request_max_attachment_bytes=4 * JSON_LIMIT,
        request_max_form_bytes=JSON_LIMIT // 4,
        request_max_form_parts=20,
        json_max_depth=16,
        json_max_string_bytes=4 * KIB,
        image_max_pixels=10_000,
        pipeline_max_batch=3,
    )
    container = Container(settings=settings, db=db, clock=clock, platform=platform)
    with TestClient(create_app(settings, container=container), raise_server_exceptions=False) as client:
        yield client


class CountingBody:
    """An ASGI `receive` that sends `chunks` chunks of `size` bytes, counting those taken."""

    def __init__(self, chunks: int, size: int) -> None:
        self.chunks, self.size, self.taken = chunks, size, 0

    async def __call__(self) -> dict:
        if self.taken == self.chunks:
            await asyncio.sleep(3600)  # the client waits for the answer; never reached when refused
        self.taken += 1
        return {"type": "http.request", "body": b" " * self.size, "more_body": self.taken < self.chunks}


def _call(app, path: str, receive, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One POST over raw ASGI: (status, body) of the answer."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(limited) -> None:
    body = CountingBody(chunks=100, size=JSON_LIMIT)
    status, answer = _call(
        limited.app,
        "/api/v1/notices",
        body,
        [(b"content-type", b"application/json"), (b"content-length", str(100 * JSON_LIMIT).encode())],
    )
    assert status == 413 and json.loads(answer)["type"].endswith("/too-large")
    assert body.taken == 0


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(limited) -> None:
    """200 chunks of 16 KiB without a Content-Length: the answer comes after the fifth."""
    body = CountingBody(chunks=200, size=16 * KIB)
    status, answer = _call(limited.app, "/api/v1/notices", body, [(b"content-type", b"application/json")])
    assert status == 413 and "TRUSTDESK_REQUEST_MAX_JSON_BYTES" in json.loads(answer)["detail"]
    assert body.taken == JSON_LIMIT // (16 * KIB) + 1


def test_an_upload_route_takes_more_than_a_json_route(limited, staff) -> None:
    """The match routes are uploads: twice the JSON limit passes the body check there."""
    token = staff.token(Permission.MATCH_LOOKUP)
    response = limited.post(
        "/api/v1/match/hash",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("x.bin", b"\0" * (2 * JSON_LIMIT), "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    too_big = limited.post(
        "/api/v1/match/hash",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("x.bin", b"\0" * (5 * JSON_LIMIT), "application/octet-stream")},
    )
    assert too_big.status_code == 413 and too_big.headers["content-type"] == PROBLEM


def test_a_lawful_request_takes_its_attachments_limit(limited) -> None:
    """Base64 attachments travel in the JSON: twice the JSON limit reaches the route (which
    asks for credentials); five times it passes the attachment limit (four) and is refused."""
    attachment = {"filename": "order.pdf", "content_base64": "A" * (2 * JSON_LIMIT)}
    assert limited.post("/api/v1/lawful-requests", json={"attachments": [attachment]}).status_code == 401
    attachment["content_base64"] = "A" * (5 * JSON_LIMIT)
    response = limited.post("/api/v1/lawful-requests", json={"attachments": [attachment]})
    assert response.status_code == 413 and "TRUSTDESK_REQUEST_MAX_ATTACHMENT_BYTES" in response.json()["detail"]


def test_a_form_takes_the_form_limit(limited) -> None:
    response = limited.post("/report", data={"explanation": "x" * (JSON_LIMIT // 2)})
    assert response.status_code == 413 and "TRUSTDESK_REQUEST_MAX_FORM_BYTES" in response.json()["detail"]


def test_deep_json_to_the_pipeline_is_a_422_not_a_500(limited, staff) -> None:
    token = staff.token(Permission.EVENTS_INGEST)
    response = limited.post(
        "/api/v1/pipeline/events",
        content=b"[" * 1000 + b"]" * 1000,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert "nested more than 16 levels" in response.json()["detail"]


def test_a_pipeline_batch_is_held_to_the_setting(limited, staff) -> None:
    headers = {"Authorization": f"Bearer {staff.token(Permission.EVENTS_INGEST)}"}
    response = limited.post("/api/v1/pipeline/events", headers=headers, json={"events": [{}] * 4})
    assert response.status_code == 413 and "TRUSTDESK_PIPELINE_MAX_BATCH" in response.json()["detail"]
    assert (
        limited.post("/api/v1/pipeline/events", headers=headers, json={"events": [{}] * 3}).status_code == 422
    )  # counted, then validated


def test_a_long_json_string_is_refused_before_parsing(limited) -> None:
    response = limited.post("/api/v1/notices", json={"reason": "x" * (5 * KIB)})
    assert response.status_code == 422 and "TRUSTDESK_JSON_MAX_STRING_BYTES" in response.json()["detail"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b"hello", "headers": {"Content-Type": "text/plain"}},
        {"content": b'{"reason": "x"}'},  # no Content-Type at all
        {"data": {"reason": "x"}},
    ],
)
def test_a_json_route_refuses_other_media_types_with_415(limited, kwargs) -> None:
    response = limited.post("/api/v1/notices", **kwargs)
    assert response.status_code == 415 and response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/unsupported-media-type")


def test_invalid_utf8_in_json_is_a_problem_that_says_so(limited) -> None:
    response = limited.post("/api/v1/notices", content=b'{"reason": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "not valid UTF-8" in response.json()["detail"]


def test_multipart_parts_are_counted_as_they_arrive(limited) -> None:
    response = limited.post("/report", files=[(f"field{i}", (None, "x")) for i in range(30)])
    assert response.status_code == 413 and "TRUSTDESK_REQUEST_MAX_FORM_PARTS" in response.json()["detail"]
    assert limited.post("/report", data={f"field{i}": "x" for i in range(30)}).status_code == 413


def test_json_within_the_limits_still_reaches_its_route(limited) -> None:
    response = limited.post("/api/v1/notices", json={"reason": "x" * KIB, "nested": [[[[1]]]]})
    assert response.status_code == 422 and "Field required" in response.json()["detail"]  # the route's own validation


def _png_bomb(side: int) -> bytes:
    """A 1-bit PNG of side x side black pixels, written row by row: a few kilobytes that
    declare side**2 pixels, made without ever holding them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\0" * (1 + (side + 7) // 8)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_from_its_header(client, staff) -> None:
    """13,000 x 13,000 pixels in ~20 KB: 413 at once, and the process does not grow by the
    hundreds of megabytes that decoding it takes (peak RSS, a coarse but honest bound)."""
    bomb = _png_bomb(13_000)
    assert len(bomb) < 100 * KIB
    token = staff.token(Permission.MATCH_LOOKUP)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    response = client.post(
        "/api/v1/match/hash", headers={"Authorization": f"Bearer {token}"}, files={"file": ("bomb.png", bomb, "image/png")}
    )
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM
    assert "13,000 x 13,000" in response.json()["detail"]
    assert grown_mib < 100


def test_the_pixel_limit_is_the_setting_for_uploads_and_platform_media(limited, staff, platform) -> None:
    """With image_max_pixels at 10,000 the demo poster is refused, sent or named by media id."""
    media = seed_demo(platform).media["poster"]
    headers = {"Authorization": f"Bearer {staff.token(Permission.MATCH_LOOKUP)}"}
    sent = limited.post(
        "/api/v1/match/lookup", headers=headers, files={"file": ("p.jpg", imagery.poster_original()[1], "image/jpeg")}
    )
    named = limited.post("/api/v1/match/lookup", headers=headers, data={"media_id": media})
    for response in (sent, named):
        assert response.status_code == 413 and "the limit is 10,000 pixels" in response.json()["detail"], response.text


@pytest.mark.parametrize(
    "text, refused",
    [
        (b'{"a": [1, [2, {"b": "[[[[[[[[[[[[["}]]}', False),  # brackets inside a string are not nesting
        (b'{"a": "\\"[[[[[[[[\\""}', False),  # nor after an escaped quote
        (b"[" * 5 + b"]" * 5, False),
        (b"[" * 6 + b"]" * 6, True),
        (b'[{"a": [{"b": [{}]}]}]', True),
        (b'["' + b"x" * 20 + b'"]', False),
        (b'["' + b"x" * 21 + b'"]', True),
    ],
)
def test_json_shape_is_read_from_the_bytes(text: bytes, refused: bool) -> None:
    assert (json_shape_problem(text, max_depth=5, max_string=20) is not None) is refused


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=40,
)


def _shape(value: object, ascii_only: bool) -> tuple[int, int]:
    """(depth, longest string as sent in bytes) of a decoded JSON value, keys included."""

    def sent(text: str) -> int:
        return len(json.dumps(text, ensure_ascii=ascii_only).encode()) - 2

    if isinstance(value, str):
        return 0, sent(value)
    if isinstance(value, list | dict):
        items = list(value.values()) if isinstance(value, dict) else value
        inner = [_shape(v, ascii_only) for v in items] or [(0, 0)]
        keys = [sent(k) for k in value] if isinstance(value, dict) else []
        return 1 + max(d for d, _ in inner), max([s for _, s in inner] + keys)
    return 0, 0


@given(JSON_VALUES, st.booleans(), st.integers(0, 6), st.integers(0, 30))
def test_json_shape_agrees_with_the_parsed_value(value: object, ascii_only: bool, max_depth: int, max_string: int) -> None:
    depth, longest = _shape(value, ascii_only)
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert (json_shape_problem(text, max_depth=max_depth, max_string=max_string) is not None) is (
        depth > max_depth or longest > max_string
    )


def test_a_bulk_review_decision_is_held_to_the_setting(tmp_path, database_url, db, clock, platform, staff) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=database_url, session_cookie_secure=False, review_bulk_max_cases=2)
    with TestClient(
        create_app(settings, container=Container(settings=settings, db=db, clock=clock, platform=platform))
    ) as client:
        headers = {"Authorization": f"Bearer {staff.token(Permission.REVIEW_DECIDE)}"}
        body = {"case_ids": [1, 2, 3], "outcome": "no_action", "reason": "bulk"}
        response = client.post("/api/v1/review/bulk/preview", headers=headers, json=body)
    assert response.status_code == 422 and "Pick 1 to 2 different cases" in response.json()["detail"], response.text


@pytest.mark.parametrize(
    "method, path, media_type, body",
    [
        ("POST", "/api/v1/banks/12/import", "multipart/form-data", BodyClass.UPLOAD),
        ("POST", "/api/v1/banks/12/entries", "application/json", BodyClass.UPLOAD),
        ("POST", "/console/safety/banks/3/import", "multipart/form-data", BodyClass.UPLOAD),
        ("POST", "/api/v1/banks/12/x/import", "multipart/form-data", BodyClass.FORM),  # a parameter is one segment
        ("POST", "/portal/requests", "multipart/form-data", BodyClass.ATTACHMENT),
        ("POST", "/api/v1/lawful-requests", "application/json", BodyClass.ATTACHMENT),
        ("POST", "/api/v1/lawful-requests/7/messages", "application/json", BodyClass.JSON),
        ("GET", "/api/v1/match/hash", "", BodyClass.JSON),
    ],
)
def test_routes_are_sorted_into_body_classes(method: str, path: str, media_type: str, body: BodyClass) -> None:
    assert classify(method, path, media_type) is body
