"""A self-hosted model server as a classifier of the port, over one open contract.

The default contract is ROOST's Pigeon (`contract="pigeon"`), as its source defines it
(github.com/roostorg/pigeon, `src/pigeon/api.py`, `schemas.py`, `auth.py`, `registry.py`;
docs/classifiers.md gives the commits read):

    POST {base_url}/v1/classify
    Content-Type: application/json
    Authorization: Bearer <token>             (Pigeon requires one: 401 without, 403 for the master token)

    {"model": "<name>" or "<name>@<version>", "input": {"text": "..."}, "policy": "..."}   (policy optional)
    {"model": "<name>", "input": {"mediaUrl": "https://..."}}

    200 {"model": "<name>@<resolved version>", "results": [{"label": "harassment", "score": 0.97}, ...]}
    401/403 {"detail": "..."}; 404 {"detail": "unknown model '...'"} (name or pinned version);
    422 {"detail": ...} (a body outside the schema, an input the model does not take, no usable labels)

Pigeon takes images by URL (`mediaUrl`, which it fetches itself), never as bytes: under this
contract `classify_image(bytes)` is refused and `classify_media_url(url)` sends the URL.

`contract="trustdesk"` keeps the shape Trustdesk used before Pigeon's was read (an image as
base64 bytes): `{"model", "input": {"type": "text", "text"} | {"type": "image", "media_type",
"data"}}` answered by `{"model", "version", "labels": [{label, score}]}` or the bare list.

Scores are 0 to 1, one per label. A 4xx says the server refused the input; a 5xx, a timeout,
a connection error or an answer outside the contract is `ClassifierError`: the caller treats
the signal as failed, never as a score of 0. The version the server reports (Pigeon: after
the `@` of the answer's `model`) is the version recorded with every decision the model takes
part in; a server that reports none is recorded under the configured `version`."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from trustdesk.safety.classifiers.base import ClassifierError, Modality, Verdict, normalise_scores
from trustdesk.safety.text import Normalised

PATH = "v1/classify"
PIGEON = "pigeon"
TRUSTDESK = "trustdesk"
CONTRACTS = frozenset({PIGEON, TRUSTDESK})
MAX_RESPONSE_BYTES = 64 * 1024
MAX_TEXT_CHARS = 100_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_DETAIL_CHARS = 200


def text_request(model: str, text: str) -> dict[str, Any]:
    """Trustdesk's own contract."""
    return {"model": model, "input": {"type": "text", "text": text}}


def image_request(model: str, data: bytes, media_type: str) -> dict[str, Any]:
    """Trustdesk's own contract."""
    return {"model": model, "input": {"type": "image", "media_type": media_type, "data": base64.b64encode(data).decode()}}


def pigeon_request(
    model_ref: str, *, text: str | None = None, media_url: str | None = None, policy: str | None = None
) -> dict[str, Any]:
    """Pigeon's `ClassifyRequest`: `model`, `input` {text, mediaUrl}, `policy` (optional)."""
    item: dict[str, Any] = {"text": text} if media_url is None else {"mediaUrl": media_url}
    body: dict[str, Any] = {"model": model_ref, "input": item}
    if policy:
        body["policy"] = policy
    return body


def _pairs(items: Any) -> list[tuple[Any, Any]]:
    if not isinstance(items, list):
        raise ClassifierError("the labels are a list of {label, score}")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"label", "score"} or "label" not in item or "score" not in item:
            raise ClassifierError(f"each label is an object {{label, score}}, not {item!r:.80}")
        pairs.append((item["label"], item["score"]))
    return pairs


def parse_pigeon_response(body: Any) -> tuple[str, str, list[tuple[str, float]]]:
    """(model name, version, [(label, score)]) from Pigeon's `ClassifyResponse`
    `{"model": "name@version", "results": [...]}`; ClassifierError otherwise."""
    if not isinstance(body, dict) or set(body) != {"model", "results"}:
        raise ClassifierError("a Pigeon answer is {model, results}")
    model = body["model"]
    if not isinstance(model, str) or "@" not in model:
        raise ClassifierError("a Pigeon answer's model is '<name>@<version>'")
    name, _, version = model.partition("@")
    if not name or not version:
        raise ClassifierError("a Pigeon answer's model is '<name>@<version>'")
    pairs = _pairs(body["results"])
    if not pairs:
        raise ClassifierError("the answer has no labels")
    return name, version, pairs


def parse_response(body: Any, *, model: str, version: str) -> tuple[str, str, list[tuple[str, float]]]:
    """Trustdesk's contract: (model, version, [(label, score)]); ClassifierError otherwise."""
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
    return answered_model, answered_version, _pairs(items)


def _detail(response: httpx.Response) -> str:
    """The server's reason (FastAPI's `detail`, Pigeon's errors), short, for the error message."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail", body.get("error")) if isinstance(body, dict) else None
    if detail is None:
        return ""
    text = detail if isinstance(detail, str) else json.dumps(detail)
    return text[:MAX_DETAIL_CHARS]


@dataclass
class HttpClassifier:
    """A classifier on a model server that speaks one of the contracts above."""

    name: str
    base_url: str
    model: str  # Pigeon: the model spec's or policy's name (`shieldgemma-2b`), without `@version`
    version: str = "unreported"
    contract: str = PIGEON
    pin_version: bool = False  # Pigeon: ask for `model@version` and refuse an answer for another version
    policy: str | None = None  # Pigeon: a policy sent with each request (a BYOP base called directly)
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

    def __post_init__(self) -> None:
        if self.contract not in CONTRACTS:
            raise ValueError(f"{self.name}: contract is one of {', '.join(sorted(CONTRACTS))}, not {self.contract!r}")
        if self.contract == PIGEON and "@" in self.model:
            raise ValueError(f"{self.name}: give the Pigeon model's name alone and its version as `version` with pin_version")

    @property
    def model_ref(self) -> str:
        """What a request names: Pigeon's `name@version` when the version is pinned."""
        pinned = self.contract == PIGEON and self.pin_version and self.version != "unreported"
        return f"{self.model}@{self.version}" if pinned else self.model

    def _post(self, body: dict[str, Any]) -> Verdict:
        try:
            response = self._http().post(PATH, json=body)
        except httpx.HTTPError as exc:
            raise ClassifierError(f"{self.name}: the model server did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            kind = "refused the input" if response.status_code < 500 else "failed"
            detail = _detail(response)
            raise ClassifierError(
                f"{self.name}: the model server {kind} (HTTP {response.status_code}{': ' + detail if detail else ''})"
            )
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ClassifierError(f"{self.name}: the answer is over {MAX_RESPONSE_BYTES} bytes")
        try:
            parsed = json.loads(response.content)
        except ValueError as exc:
            raise ClassifierError(f"{self.name}: the answer is not JSON") from exc
        if self.contract == PIGEON:
            model, version, pairs = parse_pigeon_response(parsed)
            if self.pin_version and self.version != "unreported" and version != self.version:
                raise ClassifierError(f"{self.name}: asked version {self.version!r}, the server answered with {version!r}")
        else:
            model, version, pairs = parse_response(parsed, model=self.model, version=self.version)
        if model != self.model:
            raise ClassifierError(f"{self.name}: asked model {self.model!r}, the server answered for {model!r}")
        self.last_version = version
        return Verdict(self.name, model, version, normalise_scores(pairs))

    def classify_text(self, text: Normalised) -> Verdict:
        if Modality.TEXT not in self.modalities:
            raise ClassifierError(f"{self.name} ({self.model}) does not classify text")
        plain = text.plain[:MAX_TEXT_CHARS]
        if self.contract == PIGEON:
            return self._post(pigeon_request(self.model_ref, text=plain, policy=self.policy))
        return self._post(text_request(self.model, plain))

    def classify_image(self, data: bytes, media_type: str) -> Verdict:
        if Modality.IMAGE not in self.modalities:
            raise ClassifierError(f"{self.name} ({self.model}) does not classify images")
        if self.contract == PIGEON:
            raise ClassifierError(f"{self.name}: Pigeon takes an image by URL (mediaUrl), not its bytes: classify_media_url")
        if len(data) > MAX_IMAGE_BYTES:
            raise ClassifierError(f"{self.name}: an image of {len(data)} bytes is over {MAX_IMAGE_BYTES}")
        return self._post(image_request(self.model, data, media_type))

    def classify_media_url(self, url: str) -> Verdict:
        """Pigeon: an image the server fetches itself (http only to loopback, else https)."""
        if Modality.IMAGE not in self.modalities:
            raise ClassifierError(f"{self.name} ({self.model}) does not classify images")
        if self.contract != PIGEON:
            raise ClassifierError(f"{self.name}: the {self.contract} contract takes image bytes (classify_image)")
        if not url.startswith(("http://", "https://")) or len(url) > 2000:
            raise ClassifierError(f"{self.name}: a media URL is http(s), up to 2,000 characters")
        return self._post(pigeon_request(self.model_ref, media_url=url, policy=self.policy))

    def score(self, text: Normalised, label: str | None = None) -> float:
        """One call per text, whichever labels the rules read from it."""
        last = self._last
        if last is not None and last[0] == text.plain:
            verdict = last[1]
        else:
            verdict = self.classify_text(text)
            self._last = (text.plain, verdict)
        return verdict.score(label or self.positive_label)
