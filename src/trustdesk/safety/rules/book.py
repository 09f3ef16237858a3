"""The rule book: the rule files of a directory, loaded, watched and reloaded while the
pipeline runs. A file that no longer parses keeps its last good version in force; a rule
that no longer compiles keeps its last good version too, so an analyst's typo never turns
a live rule off. Every change is visible in `status()` with its problems and lines."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from trustdesk.safety.rules.language import load_rule_file
from trustdesk.safety.rules.model import Problem, RuleError, RuleFile
from trustdesk.safety.rules.ruleset import RuleSet, build_ruleset

SHIPPED = Path(__file__).parent / "data" / "examples"
SUFFIX = ".rules"


@dataclass
class BookStatus:
    ruleset_version: str
    loaded_at: float
    files: list[str]
    problems: list[Problem] = field(default_factory=list)
    reloads: int = 0


class RuleBook:
    def __init__(self, directory: Path, *, check_every: float = 2.0, classifiers: frozenset[str] | None = None) -> None:
        self.classifiers = classifiers  # the classifier names rules may call; None: the process's registry
        self.directory, self.check_every = directory, check_every
        self._lock = threading.Lock()
        self._files: dict[str, RuleFile] = {}
        self._stamps: dict[str, tuple[float, int]] = {}
        self._problems: list[Problem] = []
        self._checked = 0.0
        self._reloads = 0
        self._current = build_ruleset([])
        self._loaded_at = time.time()
        self.reload()

    @classmethod
    def for_directory(cls, directory: Path | None, *, check_every: float = 2.0) -> RuleBook:
        """The operator's rules when the directory exists, the shipped examples otherwise."""
        return cls(directory if directory is not None and directory.is_dir() else SHIPPED, check_every=check_every)

    def current(self) -> RuleSet:
        """The rules in force; checks the files for changes at most every `check_every` s."""
        if time.monotonic() - self._checked >= self.check_every:
            self.reload()
        return self._current

    def reload(self) -> bool:
        """Re-read changed files; True when the rules in force changed."""
        with self._lock:
            self._checked = time.monotonic()
            paths = {str(p): p for p in sorted(self.directory.glob(f"*{SUFFIX}"))}
            stamps = {name: _stamp(path) for name, path in paths.items()}
            if stamps == self._stamps:
                return False
            problems: list[Problem] = []
            files = {name: self._load(name, path, problems) for name, path in paths.items()}
            self._files = {name: f for name, f in files.items() if f is not None}
            self._stamps, self._problems = stamps, problems
            self._current = build_ruleset(list(self._files.values()))
            self._reloads += 1
            self._loaded_at = time.time()
            return True

    def _load(self, name: str, path: Path, problems: list[Problem]) -> RuleFile | None:
        previous = self._files.get(name)
        try:
            loaded = load_rule_file(path) if self.classifiers is None else load_rule_file(path, classifiers=self.classifiers)
        except RuleError as exc:
            problems.extend(exc.problems)
            return previous  # the last good version stays in force
        problems.extend(loaded.problems)
        return _keep_refused(loaded, previous)

    def status(self) -> BookStatus:
        return BookStatus(self._current.version, self._loaded_at, sorted(self._files), list(self._problems), self._reloads)


def _stamp(path: Path) -> tuple[float, int]:
    stat = path.stat()
    return (stat.st_mtime, stat.st_size)


def _keep_refused(loaded: RuleFile, previous: RuleFile | None) -> RuleFile:
    """Rules refused in the new version, that compiled in the old one and are still in the
    file (refused, not deleted), stay in force as they were."""
    if previous is None or not loaded.problems:
        return loaded
    text = Path(loaded.path).read_text(encoding="utf-8")
    names = {r.name for r in loaded.rules}
    kept = tuple(r for r in previous.rules if r.name not in names and re.search(rf"^\s*rule\s+{re.escape(r.name)}\b", text, re.M))
    if not kept:
        return loaded
    return RuleFile(
        loaded.path,
        loaded.ruleset,
        loaded.version,
        loaded.digest,
        {**previous.lists, **loaded.lists},
        loaded.rules + kept,
        loaded.problems,
        loaded.counters | previous.counters,
        loaded.label_fields | previous.label_fields,
        max(loaded.pdq_distance, previous.pdq_distance),
        loaded.patterns | previous.patterns,
    )
