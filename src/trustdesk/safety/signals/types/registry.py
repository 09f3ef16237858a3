"""The signal types this instance uses, by stored name, built from the `signal_types` setting.

`CATALOGUE` is every type Trustdesk ships; the setting picks from it, and a name not in it is
refused when the top installs the registry as it builds the container (`web/container.py`, at
start), never later at the first entry of that type. Bank validation, import/export,
exchanges, the matcher and retroaction all ask the process's registry (`active()`); until it
is installed it holds the defaults."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from trustdesk.core.errors import InvalidInput
from trustdesk.core.settings import DEFAULT_SIGNAL_TYPES
from trustdesk.safety.signals.types.base import IndexKind, SignalKind
from trustdesk.safety.signals.types.md5 import Md5Kind
from trustdesk.safety.signals.types.pdq import PdqKind
from trustdesk.safety.signals.types.sha256 import Sha256Kind
from trustdesk.safety.signals.types.video_md5 import VideoMd5Kind
from trustdesk.safety.signals.types.vpdq import VpdqKind

CATALOGUE: dict[str, type[SignalKind]] = {kind.name: kind for kind in (PdqKind, Md5Kind, Sha256Kind, VideoMd5Kind, VpdqKind)}


class UnknownSignalType(ValueError):
    """A `signal_types` setting that names a type Trustdesk does not have."""


@dataclass(frozen=True)
class SignalRegistry:
    kinds: dict[str, type[SignalKind]]

    @classmethod
    def of(cls, names: Iterable[str]) -> SignalRegistry:
        names = list(names)
        unknown = [n for n in names if n not in CATALOGUE]
        if unknown:
            raise UnknownSignalType(
                f"Unknown signal type(s) in signal_types: {', '.join(map(repr, unknown))}. Known: {', '.join(CATALOGUE)}."
            )
        if not names or len(set(names)) != len(names):
            raise UnknownSignalType("signal_types names at least one signal type, each once.")
        return cls({n: CATALOGUE[n] for n in names})

    def __iter__(self) -> Iterator[type[SignalKind]]:
        return iter(self.kinds.values())

    def names(self) -> list[str]:
        return list(self.kinds)

    def get(self, name: str) -> type[SignalKind] | None:
        """The type stored as `name`, or None (a row of a type this instance does not use)."""
        return self.kinds.get(name)

    def parse(self, name: str) -> type[SignalKind]:
        """The type a person or file named; a clear error otherwise."""
        kind = self.kinds.get(str(name).strip().lower())
        if kind is None:
            raise InvalidInput(f"Unknown signal type '{name}'. Valid: {', '.join(self.kinds)}.", field="signal_type")
        return kind

    def by_index(self, index_kind: IndexKind) -> list[type[SignalKind]]:
        return [k for k in self if k.index_kind is index_kind]

    def exchange_names(self) -> dict[str, type[SignalKind]]:
        """python-threatexchange's signal type name -> ours, for the types that have one."""
        return {k.exchange_name: k for k in self if k.exchange_name is not None}


_active = SignalRegistry.of(DEFAULT_SIGNAL_TYPES)


def active() -> SignalRegistry:
    """The registry of this process."""
    return _active


def install(names: Iterable[str]) -> SignalRegistry:
    """Make the registry of these names the process's (the container's builder does, at start)."""
    global _active
    _active = SignalRegistry.of(names)
    return _active
