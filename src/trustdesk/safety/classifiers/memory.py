"""The model server's in-memory twin: the contract of `http` (`POST /v1/classify`) answered in
process, for tests and demos. By default it answers as ROOST's Pigeon does (`contract="pigeon"`,
modelled on github.com/roostorg/pigeon `src/pigeon/api.py`, `schemas.py`, `auth.py` and
`registry.py`): a bearer token (401 `invalid or missing bearer token`), `model` as `name` or
`name@version` (404 `unknown model`), `input` {text, mediaUrl} and an optional `policy`
(422 for a body outside that schema, or an image to a text-only model), and
`{"model": "name@version", "results": [{label, score}]}`; errors are `{"detail": ...}` as
FastAPI writes them. `contract="trustdesk"` answers Trustdesk's earlier shape. `HttpClassifier(..., transport=server.transport())` talks to it
through the real client code (JSON in, JSON out, status codes), and the loopback test server
(`tests/doubles/model_server.py`) serves the same `handle` over a socket, so the twin and the
wire can never drift apart.

What it answers is programmable: a function from the input to `{label: score}`, or, by
default, keyword scoring (each label's keywords found in the text)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from trustdesk.safety.classifiers.base import ClassifierError, normalise_scores

Scorer = Callable[[dict[str, Any]], Mapping[str, float]]  # the request's `input` -> {label: score}


def keyword_scorer(keywords: Mapping[str, tuple[str, ...]]) -> Scorer:
    """Each label scores 0.95 when one of its keywords is in the text, else 0.05."""

    def score(item: dict[str, Any]) -> dict[str, float]:
        text = str(item.get("text") or "").lower()
        return {label: 0.95 if any(k in text for k in words) else 0.05 for label, words in keywords.items()}

    return score


@dataclass
class InMemoryModelServer:
    model: str
    version: str
    scorer: Scorer
    modalities: frozenset[str] = frozenset({"text"})
    token: str | None = None
    contract: str = "pigeon"
    bare_list: bool = False  # trustdesk contract: answer with the normalised list alone, without model and version
    fail_with: int | None = None  # answer every request with this status (an outage)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """One request of the contract: (status, JSON body)."""
        if self.fail_with is not None:
            return self.fail_with, b'{"detail": "unavailable"}'
        if self.token is not None and headers.get("authorization", "").partition(" ")[::2] != ("Bearer", self.token):
            return 401, b'{"detail": "invalid or missing bearer token"}'
        if self.contract == "pigeon":
            return self._pigeon(body)
        try:
            request = json.loads(body)
        except ValueError:
            return 400, b'{"error": "not JSON"}'
        problem = self._check(request)
        if problem:
            return (404 if problem.startswith("no model") else 422), json.dumps({"error": problem}).encode()
        self.requests.append(request)
        try:
            labels = normalise_scores(self.scorer(request["input"]).items())
        except ClassifierError as exc:
            return 500, json.dumps({"error": str(exc)}).encode()
        listed = [{"label": s.label, "score": s.score} for s in labels]
        answer: Any = listed if self.bare_list else {"model": self.model, "version": self.version, "labels": listed}
        return 200, json.dumps(answer).encode()

    def _pigeon(self, body: bytes) -> tuple[int, bytes]:
        def refuse(status: int, detail: Any) -> tuple[int, bytes]:
            return status, json.dumps({"detail": detail}).encode()

        try:
            request = json.loads(body)
        except ValueError:
            return refuse(422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}])
        problem = _pigeon_schema(request)
        if problem:
            return refuse(422, [{"type": "missing", "loc": ["body", *problem.split(".")], "msg": "Field required or invalid"}])
        name, _, version = request["model"].partition("@")
        if name != self.model or (version and version != self.version):
            return refuse(404, f"unknown model '{request['model'] if version else name}'")
        item = request["input"]
        if item.get("mediaUrl") is not None and "image" not in self.modalities:
            return refuse(422, f"model '{name}': image input is not yet supported for chat/BYOP models")
        self.requests.append(request)
        try:
            labels = normalise_scores(self.scorer(item).items())
        except ClassifierError as exc:
            return refuse(500, str(exc))
        if not labels:
            return refuse(422, "model returned no usable labels")
        results = [{"label": s.label, "score": s.score} for s in labels]
        return 200, json.dumps({"model": f"{name}@{self.version}", "results": results}).encode()

    def _check(self, request: Any) -> str | None:
        if not isinstance(request, dict) or not isinstance(request.get("input"), dict):
            return "the body is {model, input}"
        if request.get("model") != self.model:
            return f"no model {request.get('model')!r} here"
        item = request["input"]
        kind = item.get("type")
        if kind not in self.modalities:
            return f"this model does not take {kind!r} input"
        if kind == "text" and not isinstance(item.get("text"), str):
            return "a text input has `text`"
        if kind == "image":
            if not isinstance(item.get("media_type"), str) or not isinstance(item.get("data"), str):
                return "an image input has `media_type` and base64 `data`"
            try:
                base64.b64decode(item["data"], validate=True)
            except (binascii.Error, ValueError):
                return "`data` is not base64"
        return None

    def transport(self) -> httpx.MockTransport:
        def route(request: httpx.Request) -> httpx.Response:
            if request.method != "POST" or request.url.path.rstrip("/") != "/v1/classify":
                return httpx.Response(404, json={"detail": "Not Found"})
            status, body = self.handle(request.content, {k.lower(): v for k, v in request.headers.items()})
            return httpx.Response(status, content=body, headers={"content-type": "application/json"})

        return httpx.MockTransport(route)


def _pigeon_schema(request: Any) -> str | None:
    """Where a body departs from Pigeon's `ClassifyRequest` (`model: str`, `input: {text: str |
    None, mediaUrl: str | None}`, `policy: str | None`); None when it fits."""
    if not isinstance(request, dict):
        return "body"
    if not isinstance(request.get("model"), str):
        return "model"
    item = request.get("input")
    if not isinstance(item, dict):
        return "input"
    for key in ("text", "mediaUrl"):
        if item.get(key) is not None and not isinstance(item[key], str):
            return f"input.{key}"
    if request.get("policy") is not None and not isinstance(request["policy"], str):
        return "policy"
    return None
