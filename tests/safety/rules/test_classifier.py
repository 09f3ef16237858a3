"""The shipped spam/scam classifier, measured on its fixed held-out split."""

from __future__ import annotations

from trustdesk.safety.classifiers import default_registry
from trustdesk.safety.classifiers.naive_bayes import evaluate, held_out, load_examples
from trustdesk.safety.text import normalise


def test_held_out_precision_and_recall() -> None:
    result = evaluate()
    assert result.examples >= 40
    assert result.precision >= 0.9 and result.recall >= 0.85, result


def test_split_is_fixed_and_both_classes_are_tested() -> None:
    test = [label for text, label in load_examples() if held_out(text)]
    assert any(test) and not all(test)


def test_scores_scams_high_and_chat_low_through_obfuscation() -> None:
    spam = default_registry().get("spam")
    assert spam.score(normalise("Send me your S33D PHRASE and I will double your bitcoin")) > 0.9
    assert spam.score(normalise("are we still on for dinner tonight?")) < 0.1
