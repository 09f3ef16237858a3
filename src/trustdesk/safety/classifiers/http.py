"""A self-hosted model server as a classifier of the port, over one open contract.

The contract (docs/classifiers.md), in the shape the issue names after ROOST's Pigeon:

    POST {base_url}/v1/classify
    Content-Type: application/json
    Authorization: Bearer <token>                      (when one is configured)

    {"model": "<model id>", "input": {"type": "text", "text": "..."}}
    {"model": "<model id>", "input": {"type": "image", "media_type": "image/png", "data": "<base64>"}}

    200 {"model": "<model id>", "version": "<version>", "labels": [{"label": "spam", "score": 0.97}, ...]}
        or the normalised list alone: [{"label": "spam", "score": 0.97}, ...]

Scores are 0 to 1, one per label. A 4xx says the server refused the input; a 5xx, a timeout,
a connection error or an answer outside the contract is `ClassifierError`: the caller treats
the signal as failed, never as a score of 0. The version the server reports is the version
recorded with every decision the model takes part in; a server that does not report one is
recorded under the configured `version`."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from trustdesk.safety.classifiers.base import ClassifierError, Modality, Verdict, normalise_scores
from trustdesk.safety.text import Normalised

PATH = "v1/classify"
MAX_RESPONSE_BYTES = 64 * 1024
MAX_TEXT_CHARS = 100_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024


def text_request(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "input": {"type": "text", "text": text}}


def image_request(model: str, data: bytes, media_type: str) -> dict[str, Any]:
    return {"model": model, "input": {"type": "image", "media_type": media_type, "data": base64.b64encode(data).decode()}}


def parse_response(body: Any, *, model: str, version: str) -> tuple[str, str, list[tuple[str, float]]]:
    """(model, version, [(label, score)]) from a contract answer; ClassifierError otherwise."""
    if isinstance(body, list):
        items, answered_model, answered_version = body, model, version
    elif isinstance(body, dict) and isinstance(body.get("labels"), list):
        items = body["labels"]
        answered_model = body.get("model") or model
        answered_version = body.get("version") or version
        if not isinstance(answered_model, str) or not isinstance(answered_version, str):
            raise ClassifierError("the answer's model and version must be strings")
    else:
        raise ClassifierError("the answer is neither a list of {label, score} nor an object with `labels`")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"label", "score"} or "label" not in item or "score" not in item:
            raise ClassifierError(f"each label is an object {{label, score}}, not {item!r:.80}")
        pairs.append((item["label"], item["score"]))
    return answered_model, answered_version, pairs


@dataclass
class HttpClassifier:
    """A classifier on a model server that speaks the contract above."""

    name: str
    base_url: str
    model: str
    version: str = "unreported"
    positive_label: str = "positive"
    modalities: frozenset[Modality] = frozenset({Modality.TEXT})
    token: str | None = None
    timeout_s: float = 2.0
    transport: httpx.BaseTransport | None = None
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    last_version: str | None = field(default=None, init=False)  # what the server last reported
    _last: tuple[str, Verdict] | None = field(default=None, init=False, repr=False)  # one text's verdict, for its other labels

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            self._client = httpx.Client(
                base_url=self.base_url.rstrip("/") + "/", timeout=self.timeout_s, transport=self.transport, headers=headers
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _post(self, body: dict[str, Any]) -> Verdict:
        try:
            response = self._http().post(PATH, json=body)
        except httpx.HTTPError as exc:
            raise ClassifierError(f"{self.name}: the model server did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            kind = "refused the input" if response.status_code < 500 else "failed"
            raise ClassifierError(f"{self.name}: the model server {kind} (HTTP {response.status_code})")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ClassifierError(f"{self.name}: the answer is over {MAX_RESPONSE_BYTES} bytes")
        try:
            parsed = json.loads(response.content)
        except ValueError as exc:
            raise ClassifierError(f"{self.name}: the answer is not JSON") from exc
        model, version, pairs = parse_response(parsed, model=self.model, version=self.version)
        if model != self.model:
            raise ClassifierError(f"{self.name}: asked model {self.model!r}, the server answered for {model!r}")
        self.last_version = version
        return Verdict(self.name, model, version, normalise_scores(pairs))

    def classify_text(self, text: Normalised) -> Verdict:
        if Modality.TEXT not in self.modalities:
            raise ClassifierError(f"{self.name} ({self.model}) does not classify text")
        return self._post(text_request(self.model, text.plain[:MAX_TEXT_CHARS]))

    def classify_image(self, data: bytes, media_type: str) -> Verdict:
        if Modality.IMAGE not in self.modalities:
            raise ClassifierError(f"{self.name} ({self.model}) does not classify images")
        if len(data) > MAX_IMAGE_BYTES:
            raise ClassifierError(f"{self.name}: an image of {len(data)} bytes is over {MAX_IMAGE_BYTES}")
        return self._post(image_request(self.model, data, media_type))

    def score(self, text: Normalised, label: str | None = None) -> float:
        """One call per text, whichever labels the rules read from it."""
        last = self._last
        if last is not None and last[0] == text.plain:
            verdict = last[1]
        else:
            verdict = self.classify_text(text)
            self._last = (text.plain, verdict)
        return verdict.score(label or self.positive_label)
