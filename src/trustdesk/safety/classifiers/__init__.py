"""Classifiers behind one interface: a name, the label it scores, and `score(text) -> 0..1`.
Rules call them by name (`classify("spam", event.text) > 0.9`); the loader refuses a rule that
names one that is not registered."""

from trustdesk.safety.classifiers.base import ClassifierRegistry, TextClassifier, default_registry
from trustdesk.safety.classifiers.naive_bayes import HashedNaiveBayes

__all__ = ["ClassifierRegistry", "HashedNaiveBayes", "TextClassifier", "default_registry"]
