"""The shipped spam/scam classifier, measured on its fixed held-out split."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.safety.classifiers import default_registry
from trustdesk.safety.classifiers.naive_bayes import evaluate, features, held_out, load_examples
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


@given(
    st.lists(
        st.sampled_from(["send", "me", "bitcoin", "seed", "phrase", "dinner", "tonight", "café", "x"]) | st.text(max_size=8),
        max_size=12,
    )
)
def test_scores_are_the_features_sum_to_the_last_bit(words: list[str]) -> None:
    """`score` remembers words' CRCs and continues them over bigrams; the sum is the one
    `features` gives, in the same order."""
    model = default_registry().get("spam")
    text = normalise(" ".join(words))
    ratios, unseen = model._ratios()  # noqa: SLF001
    margin = model.log_prior[1] - model.log_prior[0]
    for feature in features(text):
        margin += ratios.get(feature, unseen)
    assert model.score(text) == 1.0 / (1.0 + math.exp(max(-700.0, min(700.0, -margin))))
