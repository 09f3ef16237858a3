"""The EU DSA Transparency Database, as Trustdesk needs it: submit statements of reasons and
learn which were accepted, which were rejected (with the API's messages, for a person to fix)
and which got no answer (to be sent again). Two adapters: `http` (the real API, with retries)
and `memory` (an in-process twin that judges statements by the same rules, for tests and
development).

Why a port: the domain that writes the statements (safety) submits them without knowing how
the database is reached, and nothing that submits depends on transparency or on httpx."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trustdesk.core.errors import InvalidInput

MAX_BATCH = 100  # the API takes at most this many statements in one call
NOT_UNIQUE = "The identifier given is not unique within this platform."  # the API's message for a known puid


@dataclass
class BatchOutcome:
    """What became of each statement, by its `puid`."""

    accepted: dict[str, str] = field(default_factory=dict)  # puid -> uuid ('' if already held and not said)
    rejected: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # puid -> field -> messages
    failed: dict[str, str] = field(default_factory=dict)  # puid -> why there was no answer


class DsaDatabase(ABC):
    """The platform's account at the DSA Transparency Database."""

    @abstractmethod
    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        """Send statements (in batches of at most MAX_BATCH). A statement whose puid the
        database already holds counts as accepted, with the uuid it is held under where the
        database says it ('' otherwise): an earlier try that got no answer went through. Raises InvalidInput, sending nothing, when two share a puid."""

    @abstractmethod
    def exists(self, puid: str) -> bool:
        """Whether the database holds a statement with this puid."""

    def held(self, puid: str) -> str | None:
        """The uuid the database holds this puid under ('' where it does not say), None when
        it does not hold it: how a submitter that died mid-call learns what went through."""
        return "" if self.exists(puid) else None


def refuse_shared_puids(statements: Sequence[dict[str, Any]]) -> None:
    puids = [s.get("puid") for s in statements]
    if len(set(puids)) != len(puids):
        raise InvalidInput("Two statements share a puid; each must be unique.", field="puid")
