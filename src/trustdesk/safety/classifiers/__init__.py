"""Classifiers behind one interface (`base.Classifier`): a registry name, the model's id and
version, text and/or image input, labels with scores. Rules call them by name
(`classify("spam", event.text) > 0.9`, `classify("moderation", event.text, label="hate")`);
the loader refuses a rule that names one that is not registered. Adapters: the shipped naive
Bayes, a model server over HTTP (`http.HttpClassifier`) and its in-memory twin
(`memory.InMemoryModelServer`)."""

from trustdesk.safety.classifiers.base import (
    Classifier,
    ClassifierError,
    ClassifierRegistry,
    LabelScore,
    Modality,
    TextClassifier,
    Verdict,
    default_registry,
)
from trustdesk.safety.classifiers.http import HttpClassifier
from trustdesk.safety.classifiers.naive_bayes import HashedNaiveBayes
from trustdesk.safety.classifiers.registry import configure, from_settings

__all__ = [
    "Classifier",
    "ClassifierError",
    "ClassifierRegistry",
    "HashedNaiveBayes",
    "HttpClassifier",
    "LabelScore",
    "Modality",
    "TextClassifier",
    "Verdict",
    "configure",
    "default_registry",
    "from_settings",
]
