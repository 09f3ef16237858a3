"""One event as the rules see it: every signal is computed on first use and kept for the
other rules that ask (the text is normalised once, the word index consulted once, each
classifier run once, each media hash looked up once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from trustdesk.safety.classifiers import ClassifierRegistry
from trustdesk.safety.pipeline.events import ENTITY_FIELDS, Event, SubjectKind
from trustdesk.safety.pipeline.hashes import HashMatch, HashMatcher
from trustdesk.safety.pipeline.state import Counters, Labels, counter_key, minute_of
from trustdesk.safety.rules.model import CounterSpec
from trustdesk.safety.rules.ruleset import RuleSet
from trustdesk.safety.text import Normalised, normalise

_NONE: frozenset[str] = frozenset()


@dataclass
class Signals:
    """What every event of a batch shares: the rule set, the stores and the matchers."""

    ruleset: RuleSet
    classifiers: ClassifierRegistry
    hashes: HashMatcher
    counters: Counters
    labels: Labels
    pdq: dict[str, list[HashMatch]] = field(default_factory=dict)  # prefetched for the batch

    def prefetch_pdq(self, hexes: list[str]) -> None:
        """Look up every PDQ hash of the batch at once, at the widest distance any rule asks."""
        wanted = list(dict.fromkeys(h for h in hexes if h not in self.pdq))
        if wanted and self.ruleset.pdq_distance >= 0:
            self.pdq.update(zip(wanted, self.hashes.match_pdq_many(wanted, max_distance=self.ruleset.pdq_distance), strict=True))


class EventContext:
    __slots__ = (
        "_counters",
        "_hashes",
        "_labels",
        "_lists",
        "_models",
        "_norm",
        "_patterns",
        "_scores",
        "event",
        "now",
        "signals",
    )

    def __init__(self, event: Event, signals: Signals, *, now: datetime) -> None:
        self.event, self.signals, self.now = event, signals, now
        self._norm: dict[str, Normalised | None] = {}
        self._lists: dict[str, frozenset[str]] = {}
        self._patterns: dict[str, frozenset[str]] = {}
        self._labels: dict[str, dict[str, datetime | None]] = {}
        self._scores: dict[tuple[str, str, str | None], float] = {}
        self._models: dict[str, tuple[str, str]] = {}  # classifier -> (model id, version) it answered with
        self._hashes: dict[int, list[HashMatch]] | None = None
        self._counters: dict[CounterSpec, tuple[dict[int, int] | None, int]] = {}

    def norm(self, field: str) -> Normalised | None:
        if field not in self._norm:
            value = getattr(self.event, field, None)
            self._norm[field] = normalise(value) if value else None
        return self._norm[field]

    def lists_hit(self, field: str) -> frozenset[str]:
        hit = self._lists.get(field)
        if hit is None:
            hit = self._lists[field] = self._find_lists(field)
        return hit

    def _find_lists(self, field: str) -> frozenset[str]:
        text = self.norm(field)
        if text is None:
            return _NONE
        ruleset = self.signals.ruleset
        found: set[str] = set()
        words = text.words
        for word in words & ruleset.words.keys():  # the intersection runs in C; hits are rare
            found |= ruleset.words[word]
        heads = words & ruleset.phrase_heads.keys()  # a phrase can only occur if its first word does
        if heads:
            padded = f" {' '.join(text.folded.split())} "
            found.update(name for head in heads for phrase, name in ruleset.phrase_heads[head] if phrase in padded)
        return frozenset(found) if found else _NONE

    def list_hit(self, field: str, name: str) -> bool:
        return name in self.lists_hit(field)

    def patterns_hit(self, field: str) -> frozenset[str]:
        """The sources of every rule pattern found in the field: one RE2 pass for all."""
        hit = self._patterns.get(field)
        if hit is None:
            patterns = self.signals.ruleset.patterns.get(field)
            text = self.norm(field) if patterns is not None else None
            hit = self._patterns[field] = patterns.hits(text.plain) if text is not None else _NONE  # type: ignore[union-attr]
        return hit

    def pattern_hit(self, field: str, source: str) -> bool:
        return source in self.patterns_hit(field)

    def classify(self, name: str, field: str, label: str | None = None) -> float:
        key = (name, field, label)
        if key not in self._scores:
            text = self.norm(field)
            classifier = self.signals.classifiers.get(name)
            self._scores[key] = classifier.score(text, label) if text else 0.0
            if text:
                version = getattr(classifier, "last_version", None) or classifier.version
                self._models[name] = (classifier.model, version)
        return self._scores[key]

    def models_used(self) -> list[dict[str, str]]:
        """Every classifier this event's rules consulted, with the model id and version that
        answered: what an automated decision records as the model that took part in it."""
        return [{"classifier": n, "model": m, "version": v} for n, (m, v) in sorted(self._models.items())]

    def hash_matches(self, distance: int) -> list[HashMatch]:
        """Every bank match of every media item within `distance` (exact digests count as 0)."""
        if self._hashes is None:
            self._hashes = {}
        found = self._hashes.get(distance)
        if found is None:
            found = []
            for media in getattr(self.event, "media", ()):
                if media.pdq:
                    known = self.signals.pdq.get(media.pdq)
                    if known is None:
                        known = self.signals.hashes.match_pdq(media.pdq, max_distance=distance)
                    found += [m for m in known if m.distance <= distance]
                for digest in (media.md5, media.sha256):
                    if digest:
                        found += self.signals.hashes.match_exact(digest)
            self._hashes[distance] = found
        return found

    def hash_match(self, bank: str, distance: int) -> bool:
        return any(m.bank == bank and m.distance <= distance for m in self.hash_matches(distance))

    def hash_exact(self, bank: str) -> bool:
        return any(m.bank == bank and m.distance == 0 for m in self.hash_matches(0))

    def count(self, spec: CounterSpec, seconds: int) -> int:
        found = self._counters.get(spec)
        if found is None:
            value = getattr(self.event, spec.field, None)
            buckets = self.signals.counters.buckets(counter_key(spec.kind, spec.field, value)) if value is not None else None
            found = self._counters[spec] = (buckets, minute_of(self.event.occurred_at))
        return Counters.count_in(found[0], found[1], seconds)

    def labels_of(self, field: str) -> dict[str, datetime | None]:
        """The entity's labels (label -> expiry, expired ones included), looked up once per
        event (effects apply after evaluation)."""
        held = self._labels.get(field)
        if held is None:
            kind, value = entity_of(self.event, field)
            held = self._labels[field] = (self.signals.labels.of(kind, value) if value is not None else None) or {}
        return held

    def has_label(self, field: str, label: str) -> bool:
        held = self.labels_of(field)
        if label not in held:
            return False
        expires = held[label]
        return expires is None or expires > self.now


def entity_of(event: Event, field: str) -> tuple[str, str | None]:
    kind: SubjectKind | str | None = ENTITY_FIELDS.get(field)
    if kind is None:  # event.subject of a report: its own kind says
        kind = getattr(event, "subject_kind", "account")
    return str(kind), getattr(event, field, None)
