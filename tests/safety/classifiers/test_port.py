"""The classifier port: the shipped naive Bayes, the HTTP adapter against its in-memory twin
and against a real loopback server (ROOST Pigeon's `POST /v1/classify` by default, Trustdesk's
earlier contract where configured), the registry from settings, and rules calling any
registered classifier by name (and label)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest

from tests.doubles.model_server import serve_model
from trustdesk.safety.classifiers import (
    Classifier,
    ClassifierError,
    ClassifierRegistry,
    HttpClassifier,
    Modality,
    configure,
    default_registry,
    from_settings,
)
from trustdesk.safety.classifiers.base import normalise_scores
from trustdesk.safety.classifiers.memory import InMemoryModelServer, keyword_scorer
from trustdesk.safety.classifiers.naive_bayes import train_shipped_spam
from trustdesk.safety.pipeline import ingest
from trustdesk.safety.pipeline.context import EventContext, Signals
from trustdesk.safety.pipeline.engine import evaluate
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.state import Counters, Labels
from trustdesk.safety.rules.language import parse_rules
from trustdesk.safety.rules.ruleset import build_ruleset
from trustdesk.safety.text import normalise

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MODEL = "roost/moderation-small"


def twin(**kw: object) -> InMemoryModelServer:
    scorer = keyword_scorer({"hate": ("vermin",), "sexual": ("nsfw",), "spam": ("bitcoin",)})
    return InMemoryModelServer(model=MODEL, version="2026.03.1", scorer=scorer, **kw)  # type: ignore[arg-type]


def adapter(server: InMemoryModelServer, **kw: object) -> HttpClassifier:
    return HttpClassifier(
        name="moderation",
        base_url="http://models.invalid",
        model=MODEL,
        positive_label="hate",
        transport=server.transport(),
        **kw,
    )  # type: ignore[arg-type]


def test_the_naive_bayes_is_a_classifier_of_the_port() -> None:
    spam = default_registry().get("spam")
    assert isinstance(spam, Classifier)
    assert spam.model == "trustdesk/hashed-naive-bayes" and spam.version.startswith("sha256:")
    assert spam.version == train_shipped_spam().version  # the same training data, the same version
    assert spam.version != train_shipped_spam(training_only=True).version
    verdict = spam.classify_text(normalise("Send me your seed phrase and I will double your bitcoin"))
    assert [s.label for s in verdict.scores] == ["spam", "ham"] and verdict.top is not None and verdict.top.score > 0.9
    assert abs(sum(s.score for s in verdict.scores) - 1.0) < 1e-9
    assert (verdict.model, verdict.version) == (spam.model, spam.version)
    with pytest.raises(ClassifierError):
        spam.classify_image(b"\x89PNG", "image/png")


def test_the_http_adapter_speaks_the_contract_to_the_twin() -> None:
    server = twin()
    moderation = adapter(server)
    assert isinstance(moderation, Classifier)
    verdict = moderation.classify_text(normalise("they are vermin"))
    assert (verdict.model, verdict.version) == (MODEL, "2026.03.1")
    assert verdict.score("hate") == 0.95 and verdict.score("sexual") == 0.05 and verdict.score("unknown") == 0.0
    assert [s.label for s in verdict.scores][0] == "hate"
    assert server.requests[-1] == {"model": MODEL, "input": {"text": "they are vermin"}}  # Pigeon's ClassifyRequest
    assert moderation.score(normalise("hello there")) == 0.05
    assert moderation.score(normalise("nsfw pictures"), "sexual") == 0.95


def test_pigeon_takes_images_by_url_and_refuses_them_to_a_text_model() -> None:
    server = twin(modalities=frozenset({"text", "image"}))
    server.scorer = lambda item: {"sexual": 0.9 if item.get("mediaUrl") else 0.1}
    both = adapter(server, modalities=frozenset({Modality.TEXT, Modality.IMAGE}))
    assert both.classify_media_url("https://cdn.example/x.png").score("sexual") == 0.9
    assert server.requests[-1] == {"model": MODEL, "input": {"mediaUrl": "https://cdn.example/x.png"}}
    with pytest.raises(ClassifierError, match="by URL"):
        both.classify_image(b"\x89PNG", "image/png")  # Pigeon has no field for an image's bytes
    with pytest.raises(ClassifierError, match="http"):
        both.classify_media_url("file:///etc/passwd")
    text_model = adapter(twin(), modalities=frozenset({Modality.TEXT, Modality.IMAGE}))  # configured wrongly: the server says no
    with pytest.raises(ClassifierError, match="HTTP 422: model .* image input is not yet supported"):
        text_model.classify_media_url("https://cdn.example/x.png")


def test_images_go_base64_and_only_to_a_model_that_takes_them() -> None:
    text_only = adapter(twin(contract="trustdesk"), contract="trustdesk")
    with pytest.raises(ClassifierError, match="does not classify images"):
        text_only.classify_image(b"\x89PNG", "image/png")
    server = twin(modalities=frozenset({"text", "image"}), contract="trustdesk")
    server.scorer = lambda item: {"sexual": 0.9 if item.get("type") == "image" else 0.1}
    both = adapter(server, modalities=frozenset({Modality.TEXT, Modality.IMAGE}), contract="trustdesk")
    assert both.classify_image(b"\x89PNG-bytes", "image/png").score("sexual") == 0.9
    sent = server.requests[-1]["input"]
    assert sent["type"] == "image" and base64.b64decode(sent["data"]) == b"\x89PNG-bytes" and sent["media_type"] == "image/png"


def test_a_bare_list_answer_is_recorded_under_the_configured_version() -> None:
    verdict = adapter(twin(bare_list=True, contract="trustdesk"), version="pinned-7", contract="trustdesk").classify_text(
        normalise("vermin")
    )
    assert verdict.version == "pinned-7" and verdict.score("hate") == 0.95


def test_pigeon_reports_the_resolved_version_and_a_pinned_version_is_asked_and_checked() -> None:
    server = twin()
    unpinned = adapter(server, version="ignored-unless-pinned")
    assert unpinned.classify_text(normalise("vermin")).version == "2026.03.1"  # from "model": "<name>@<version>"
    pinned = adapter(server, version="2026.03.1", pin_version=True)
    assert pinned.classify_text(normalise("vermin")).version == "2026.03.1"
    assert server.requests[-1]["model"] == f"{MODEL}@2026.03.1"
    with pytest.raises(ClassifierError, match="HTTP 404: unknown model"):
        adapter(server, version="2025.01", pin_version=True).classify_text(normalise("x"))
    other = twin()
    other.handle = lambda body, headers: (
        200,
        json.dumps({"model": f"{MODEL}@9", "results": [{"label": "hate", "score": 0.1}]}).encode(),
    )  # type: ignore[method-assign]
    with pytest.raises(ClassifierError, match="asked version"):
        adapter(other, version="2026.03.1", pin_version=True).classify_text(normalise("x"))
    policy = adapter(server, policy="Flag harassment.")
    policy.classify_text(normalise("vermin"))
    assert server.requests[-1] == {"model": MODEL, "input": {"text": "vermin"}, "policy": "Flag harassment."}
    with pytest.raises(ValueError, match="version"):
        HttpClassifier(name="m", base_url="http://x", model=f"{MODEL}@1")
    with pytest.raises(ValueError, match="contract"):
        HttpClassifier(name="m", base_url="http://x", model=MODEL, contract="grpc")


PIGEON_RESULT = f"{MODEL}@2026.03.1"


@pytest.mark.parametrize(
    "answer",
    [
        {"model": PIGEON_RESULT, "results": [{"label": "hate", "score": 1.5}]},
        {"model": PIGEON_RESULT, "results": [{"label": "hate", "score": float("nan")}]},
        {"model": PIGEON_RESULT, "results": [{"label": "hate", "score": 0.2}, {"label": "hate", "score": 0.3}]},
        {"model": PIGEON_RESULT, "results": [{"label": "", "score": 0.2}]},
        {"model": PIGEON_RESULT, "results": [{"label": "hate", "score": True}]},
        {"model": PIGEON_RESULT, "results": [{"label": "hate"}]},
        {"model": PIGEON_RESULT, "results": []},
        {"model": MODEL, "results": [{"label": "hate", "score": 0.2}]},  # no version
        {"model": "someone/else@1", "results": [{"label": "hate", "score": 0.2}]},
        {"model": PIGEON_RESULT, "labels": [{"label": "hate", "score": 0.2}]},  # Trustdesk's envelope, not Pigeon's
        [{"label": "hate", "score": 0.2}],
        {"result": "ok"},
    ],
)
def test_an_answer_outside_the_contract_is_an_error_not_a_score(answer: object) -> None:
    server = twin()
    server.handle = lambda body, headers: (200, json.dumps(answer).encode())  # type: ignore[method-assign]
    with pytest.raises(ClassifierError):
        adapter(server).classify_text(normalise("vermin"))


@pytest.mark.parametrize(
    "answer",
    [
        [{"label": "hate", "score": 1.5}],
        [{"label": "hate"}],
        {"model": "someone/else", "version": "1", "labels": []},
        {"result": "ok"},
    ],
)
def test_an_answer_outside_trustdesks_contract_is_an_error_not_a_score(answer: object) -> None:
    server = twin(contract="trustdesk")
    server.handle = lambda body, headers: (200, json.dumps(answer).encode())  # type: ignore[method-assign]
    with pytest.raises(ClassifierError):
        adapter(server, contract="trustdesk").classify_text(normalise("vermin"))


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"input": {"text": "x"}}', b'{"model": "m", "input": "x"}', b'{"model": "m", "input": {"text": 3}}'],
)
def test_the_twin_refuses_a_body_outside_pigeons_schema_with_422(body: bytes) -> None:
    status, answer = twin().handle(body, {})
    assert status == 422 and "detail" in json.loads(answer)


def test_refusals_and_outages_are_errors() -> None:
    with pytest.raises(ClassifierError, match="HTTP 503"):
        adapter(twin(fail_with=503)).classify_text(normalise("x"))
    with pytest.raises(ClassifierError, match="refused the input .HTTP 401: invalid or missing bearer token"):
        adapter(twin(token="s3cret")).classify_text(normalise("x"))  # no token: 401, Pigeon's detail in the error
    assert adapter(twin(token="s3cret"), token="s3cret").classify_text(normalise("vermin")).score("hate") == 0.95
    wrong_model = HttpClassifier(name="m", base_url="http://models.invalid", model="nope", transport=twin().transport())
    with pytest.raises(ClassifierError, match="HTTP 404: unknown model 'nope'"):
        wrong_model.classify_text(normalise("x"))


def test_scores_are_normalised_highest_first() -> None:
    assert [s.label for s in normalise_scores([("a", 0.1), ("b", 0.7), ("c", 0.7)])] == ["b", "c", "a"]


def test_over_real_http_on_loopback() -> None:
    server = twin(token="tok")
    with serve_model(server) as url:
        moderation = HttpClassifier(name="moderation", base_url=url, model=MODEL, positive_label="hate", token="tok")
        verdict = moderation.classify_text(normalise("they are vermin"))
        assert (verdict.version, verdict.score("hate")) == ("2026.03.1", 0.95)
        assert moderation.last_version == "2026.03.1"
        moderation.close()
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    gone = HttpClassifier(name="moderation", base_url=url, model=MODEL, timeout_s=0.5)
    with pytest.raises(ClassifierError, match="did not answer"):
        gone.classify_text(normalise("x"))  # the server has shut down: connection refused


def test_the_registry_from_settings() -> None:
    entry = {
        "name": "moderation",
        "base_url": "http://models:8080",
        "model": MODEL,
        "positive_label": "hate",
        "modalities": ["text", "image"],
    }
    built = from_settings(entry)
    assert (built.name, built.model, built.version, built.modalities) == (
        "moderation",
        MODEL,
        "unreported",
        frozenset({Modality.TEXT, Modality.IMAGE}),
    )
    assert built.contract == "pigeon" and not built.pin_version and built.policy is None
    legacy = from_settings({**entry, "contract": "trustdesk", "version": "7", "pin_version": True, "policy": "Flag hate."})
    assert (legacy.contract, legacy.version, legacy.pin_version, legacy.policy) == ("trustdesk", "7", True, "Flag hate.")
    for bad in (
        {**entry, "colour": "red"},
        {**entry, "base_url": "ftp://x"},
        {k: v for k, v in entry.items() if k != "model"},
        {**entry, "contract": "grpc"},
    ):
        with pytest.raises(ValueError):
            from_settings(bad)

    class Settings:
        model_servers = [entry]

    registry = configure(Settings(), ClassifierRegistry([train_shipped_spam()]))
    assert registry.names() == ["moderation", "spam"]
    assert [(i.name, i.modalities) for i in registry.describe()] == [("moderation", ("image", "text")), ("spam", ("text",))]
    with pytest.raises(ValueError):
        registry.add(HttpClassifier(name="has space", base_url="http://x", model="m"))


RULES = """ruleset "models" version 1
rule hateful { version 1 when event.kind == "message" and classify("moderation", event.text, label="hate") > 0.9 then verdict("hate") }
rule spammy { version 1 when event.kind == "message" and classify("spam", event.text) > 0.9 then verdict("spam") }
rule moderated { version 1 when event.kind == "message" and classify("moderation", event.text) > 0.9 then verdict("default_label") }
"""


def test_rules_call_any_registered_classifier_by_name_and_label() -> None:
    server = twin()
    registry = ClassifierRegistry([train_shipped_spam(), adapter(server)])
    file = parse_rules(RULES, path="models.rules", classifiers=frozenset(registry.names()))
    assert not file.problems, file.problems
    ruleset = build_ruleset([file])
    signals = Signals(ruleset, registry, InMemoryHashMatcher(), Counters(), Labels())
    event = ingest.validate(
        [
            {
                "id": "e1",
                "kind": "message",
                "occurred_at": NOW.isoformat(),
                "actor": "u1",
                "message": "m1",
                "chat": "c1",
                "chat_kind": "group",
                "text": "they are vermin",
            }
        ]
    )[0]
    context = EventContext(event, signals, now=NOW)
    assert [r.name for r in evaluate(context).hits] == ["hateful", "moderated"]
    assert context.models_used() == [
        {"classifier": "moderation", "model": MODEL, "version": "2026.03.1"},
        {"classifier": "spam", "model": "trustdesk/hashed-naive-bayes", "version": train_shipped_spam().version},
    ]
    assert len(server.requests) == 1  # one call per event and field, whatever the label asked


def test_a_rule_naming_an_unregistered_classifier_or_a_bad_label_is_refused() -> None:
    unknown = parse_rules(RULES, path="models.rules", classifiers=frozenset({"spam"}))
    assert any("no classifier named 'moderation'" in p.message for p in unknown.problems)
    bad = parse_rules(
        'ruleset "x" version 1\nrule r { version 1 when classify("spam", event.text, colour="red") > 0.5 then verdict("x") }',
        path="x.rules",
        classifiers=frozenset({"spam"}),
    )
    assert any("no option colour=" in p.message for p in bad.problems)
