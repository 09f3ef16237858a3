"""A multinomial naive Bayes text classifier over hashed word uni- and bigrams of the folded
text (so obfuscation that the keyword lists undo is undone here too). Small, offline, CPU
only, and trained by the project from `data/spam_messages.csv` (hand-written examples of
scams, fraud, drug and fake-goods offers against everyday chat).

Hashing (CRC-32 into 2^18 buckets) keeps the model a fixed size whatever the vocabulary and
needs no stored vocabulary; CRC-32 rather than `hash()` because Python randomises the
latter per process, and a model must score the same in every worker."""

from __future__ import annotations

import csv
import hashlib
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustdesk.safety.classifiers.base import ClassifierError, Modality, Verdict, normalise_scores
from trustdesk.safety.text import Normalised, normalise

DATA = Path(__file__).parent / "data" / "spam_messages.csv"
BUCKETS = 1 << 18
MASK = BUCKETS - 1
WORD_CACHE = 100_000  # words whose CRC-32 and ratio `score` remembers


def features(text: Normalised) -> list[int]:
    words = text.folded.split()
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return [zlib.crc32(g.encode()) & (BUCKETS - 1) for g in grams]


MODEL_ID = "trustdesk/hashed-naive-bayes"


@dataclass
class HashedNaiveBayes:
    """A classifier of the port (`base.Classifier`): text only, two labels (`positive_label`
    and `negative_label`), its version the digest of what it was trained on."""

    name: str
    positive_label: str
    log_prior: tuple[float, float]  # (negative, positive)
    log_likelihood: tuple[dict[int, float], dict[int, float]]
    log_unseen: tuple[float, float]
    version: str = "untrained"
    negative_label: str = "ham"
    model: str = MODEL_ID
    modalities: frozenset[Modality] = frozenset({Modality.TEXT})

    def classify_text(self, text: Normalised) -> Verdict:
        p = self.positive(text)
        scores = normalise_scores([(self.positive_label, p), (self.negative_label, 1.0 - p)])
        return Verdict(self.name, self.model, self.version, scores)

    def classify_image(self, data: bytes, media_type: str) -> Verdict:
        raise ClassifierError(f"{self.name} ({self.model}) classifies text, not images")

    @classmethod
    def train(
        cls, name: str, positive_label: str, examples: Iterable[tuple[str, bool]], *, alpha: float = 0.5
    ) -> HashedNaiveBayes:
        counts: tuple[dict[int, int], dict[int, int]] = ({}, {})
        docs = [0, 0]
        examples_seen = list(examples)
        for text, positive in examples_seen:
            side = int(positive)
            docs[side] += 1
            for f in features(normalise(text)):
                counts[side][f] = counts[side].get(f, 0) + 1
        if min(docs) == 0:
            raise ValueError("training needs examples of both classes")
        vocabulary = len(set(counts[0]) | set(counts[1]))
        totals = [sum(c.values()) + alpha * vocabulary for c in counts]
        likelihood = tuple({f: math.log((n + alpha) / totals[s]) for f, n in counts[s].items()} for s in (0, 1))
        prior = tuple(math.log(d / sum(docs)) for d in docs)
        unseen = tuple(math.log(alpha / t) for t in totals)
        return cls(name, positive_label, prior, likelihood, unseen, version=training_digest(examples_seen, alpha))  # type: ignore[arg-type]

    def score(self, text: Normalised, label: str | None = None) -> float:
        """The score of `label` (default the positive label): P(label | text)."""
        if label is None or label == self.positive_label:
            return self.positive(text)
        if label == self.negative_label:
            return 1.0 - self.positive(text)
        return 0.0

    def positive(self, text: Normalised) -> float:
        """P(positive | text). Only the difference of the two sides' log likelihoods matters,
        so each feature costs one lookup in a table of differences (built once).

        The features are `features(text)`'s, in its order (so the sum is the same to the
        last bit), computed faster: each word's CRC-32 and ratio are remembered, and a
        bigram's CRC-32 continues its first word's over " second" (CRC-32 runs on)."""
        ratios, unseen = self._ratios()
        get = ratios.get
        margin = self.log_prior[1] - self.log_prior[0]
        seen = self.__dict__.setdefault("_word_cache", {})
        if len(seen) > WORD_CACHE:
            seen.clear()
        previous = -1  # CRC-32 of the word before, for the bigram
        for word in text.folded.split():
            entry = seen.get(word)
            if entry is None:
                crc = zlib.crc32(word.encode())
                entry = seen[word] = (crc, f" {word}".encode(), get(crc & MASK, unseen))
            margin += entry[2]
            if previous >= 0:
                margin += get(zlib.crc32(entry[1], previous) & MASK, unseen)
            previous = entry[0]
        return 1.0 / (1.0 + math.exp(max(-700.0, min(700.0, -margin))))

    def _ratios(self) -> tuple[dict[int, float], float]:
        cached = self.__dict__.get("_ratio_table")
        if cached is None:
            (lneg, lpos), (uneg, upos) = self.log_likelihood, self.log_unseen
            table = {f: lpos.get(f, upos) - lneg.get(f, uneg) for f in lneg.keys() | lpos.keys()}
            cached = self.__dict__["_ratio_table"] = (table, upos - uneg)
        return cached


def training_digest(examples: Sequence[tuple[str, bool]], alpha: float) -> str:
    """The model's version: what it learnt from (the examples in order, alpha, the buckets)."""
    digest = hashlib.sha256(f"alpha={alpha};buckets={BUCKETS}\n".encode())
    for text, positive in examples:
        digest.update(f"{int(positive)}\t{text}\n".encode())
    return f"sha256:{digest.hexdigest()[:16]}"


def load_examples(path: Path = DATA) -> list[tuple[str, bool]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [(row["text"], row["label"] == "spam") for row in csv.DictReader(fh)]


def held_out(text: str) -> bool:
    """A fixed 30 % test split, by a stable hash of the text, so it never changes between runs."""
    return zlib.crc32(text.encode()) % 10 < 3


def train_shipped_spam(examples: Sequence[tuple[str, bool]] | None = None, *, training_only: bool = False) -> HashedNaiveBayes:
    rows = list(examples or load_examples())
    if training_only:
        rows = [r for r in rows if not held_out(r[0])]
    return HashedNaiveBayes.train("spam", "spam", rows)


@dataclass(frozen=True)
class Evaluation:
    examples: int
    precision: float
    recall: float
    threshold: float


def evaluate(threshold: float = 0.5) -> Evaluation:
    """Precision and recall on the held-out 30 %, for a model trained on the other 70 %."""
    rows = load_examples()
    model = train_shipped_spam(rows, training_only=True)
    test = [r for r in rows if held_out(r[0])]
    predicted = [(model.score(normalise(text)) >= threshold, truth) for text, truth in test]
    tp = sum(p and t for p, t in predicted)
    fp = sum(p and not t for p, t in predicted)
    fn = sum(t and not p for p, t in predicted)
    return Evaluation(len(test), tp / max(1, tp + fp), tp / max(1, tp + fn), threshold)
