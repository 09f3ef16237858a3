"""The classifier port. A classifier is an adapter behind one interface: it has a registry
name, the id and version of the model behind it, the kinds of input it takes (text, image),
and it answers with labels and scores (0 to 1). The shipped naive Bayes, a self-hosted model
server over HTTP (`http.HttpClassifier`) and its in-memory twin (`memory.InMemoryModelServer`)
all fit; so would a local ONNX model or a vendor's service.

`score(text)` is the one number a rule compares (`classify("spam", event.text) > 0.9`): the
score of the classifier's `positive_label`, or of the label a rule names
(`classify("nsfw", event.text, label="sexual")`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Protocol, runtime_checkable

from trustdesk.safety.text import Normalised


class Modality(StrEnum):
    TEXT = "text"
    IMAGE = "image"


class ClassifierError(Exception):
    """The classifier could not answer (server down, malformed answer, unsupported input).
    The pipeline treats it as a failed signal, never as a score of 0."""


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float


@dataclass(frozen=True)
class Verdict:
    """One classification: which model (id and version) said what."""

    classifier: str
    model: str
    version: str
    scores: tuple[LabelScore, ...]

    def score(self, label: str) -> float:
        """The label's score; 0.0 for a label the model did not return."""
        return next((s.score for s in self.scores if s.label == label), 0.0)

    @property
    def top(self) -> LabelScore | None:
        return max(self.scores, key=lambda s: s.score, default=None)


def normalise_scores(raw: Iterable[tuple[str, float]]) -> tuple[LabelScore, ...]:
    """Labels as non-empty strings, each once, scores finite and within 0..1; highest first.
    Raises ClassifierError on anything else: a model's answer is checked, never trusted."""
    seen: dict[str, float] = {}
    for label, score in raw:
        if not isinstance(label, str) or not label.strip() or len(label) > 128:
            raise ClassifierError(f"a label must be a non-empty string of up to 128 characters, not {label!r}")
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score) or not 0.0 <= score <= 1.0:
            raise ClassifierError(f"the score of {label!r} must be a number from 0 to 1, not {score!r}")
        if label in seen:
            raise ClassifierError(f"the label {label!r} appears twice")
        seen[label] = float(score)
    return tuple(LabelScore(k, v) for k, v in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])))


@runtime_checkable
class Classifier(Protocol):
    name: str  # the registry name rules use
    positive_label: str  # the label `score` reads

    @property
    def model(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def modalities(self) -> frozenset[Modality]: ...

    def classify_text(self, text: Normalised) -> Verdict: ...

    def classify_image(self, data: bytes, media_type: str) -> Verdict: ...

    def score(self, text: Normalised, label: str | None = None) -> float:
        """Score, 0 to 1, that `text` carries `label` (default `positive_label`)."""
        ...


TextClassifier = Classifier  # the port's former name


@dataclass(frozen=True)
class ClassifierInfo:
    name: str
    model: str
    version: str
    modalities: tuple[str, ...]
    positive_label: str


class ClassifierRegistry:
    """The classifiers of a deployment, by name. Rules may call any of them; the rule loader
    refuses a rule that names one that is not here."""

    def __init__(self, classifiers: Sequence[Classifier] | None = None) -> None:
        self._by_name: dict[str, Classifier] = {}
        for c in classifiers or []:
            self.add(c)

    def add(self, classifier: Classifier) -> None:
        if not classifier.name or not classifier.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"a classifier's name is letters, digits, - and _, not {classifier.name!r}")
        self._by_name[classifier.name] = classifier

    def get(self, name: str) -> Classifier:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def describe(self) -> list[ClassifierInfo]:
        return [
            ClassifierInfo(c.name, c.model, c.version, tuple(sorted(m.value for m in c.modalities)), c.positive_label)
            for c in (self._by_name[n] for n in self.names())
        ]


@cache
def default_registry() -> ClassifierRegistry:
    """The classifiers every deployment has: the shipped spam/scam model, trained on load
    (a few milliseconds) from the labelled file the project ships."""
    from trustdesk.safety.classifiers.naive_bayes import train_shipped_spam

    return ClassifierRegistry([train_shipped_spam()])
