"""The classifier port. Anything that turns normalised text into a probability fits: the
shipped naive Bayes, a local ONNX model, a call to a vendor's service."""

from __future__ import annotations

from functools import cache
from typing import Protocol, runtime_checkable

from trustdesk.safety.text import Normalised


@runtime_checkable
class TextClassifier(Protocol):
    name: str
    positive_label: str

    def score(self, text: Normalised) -> float:
        """Probability, 0 to 1, that `text` carries `positive_label`."""
        ...


class ClassifierRegistry:
    def __init__(self, classifiers: list[TextClassifier] | None = None) -> None:
        self._by_name: dict[str, TextClassifier] = {c.name: c for c in classifiers or []}

    def add(self, classifier: TextClassifier) -> None:
        self._by_name[classifier.name] = classifier

    def get(self, name: str) -> TextClassifier:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)


@cache
def default_registry() -> ClassifierRegistry:
    """The classifiers every deployment has: the shipped spam/scam model, trained on load
    (a few milliseconds) from the labelled file the project ships."""
    from trustdesk.safety.classifiers.naive_bayes import train_shipped_spam

    return ClassifierRegistry([train_shipped_spam()])
