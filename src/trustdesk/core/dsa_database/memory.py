"""The DSA Transparency Database in memory: it judges each statement by the rules it is given
(the API's published rules: `safety.enforcement.dsa.validate_statement`, which core may not
import), refuses a puid it already holds, and answers as the HTTP adapter does after a real
call: uuids for the accepted, each rejected statement's own messages, the uuid it holds for a
puid already held. Nothing survives the process; nothing ever fails to answer."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from trustdesk.core.dsa_database.port import MAX_BATCH, NOT_UNIQUE, BatchOutcome, DsaDatabase, refuse_shared_puids

Rules = Callable[[Any], dict[str, list[str]]]  # statement -> field -> messages; empty when acceptable


class InMemoryDsaDatabase(DsaDatabase):
    def __init__(self, *, rules: Rules) -> None:
        self.rules = rules
        self.known: dict[str, str] = {}  # puid -> uuid of every statement held
        self.batches: list[int] = []  # the size of each batch taken, as the API would have seen them

    def submit(self, statements: list[dict[str, Any]]) -> BatchOutcome:
        refuse_shared_puids(statements)
        outcome = BatchOutcome()
        for start in range(0, len(statements), MAX_BATCH):
            batch = statements[start : start + MAX_BATCH]
            self.batches.append(len(batch))
            for statement, errors in zip(batch, self.check(batch), strict=True):
                if errors == {"puid": [NOT_UNIQUE]}:
                    outcome.accepted[statement["puid"]] = self.known.get(statement["puid"], "")
                elif errors:
                    outcome.rejected[statement["puid"]] = errors
                else:
                    outcome.accepted[statement["puid"]] = self.keep(statement)
        return outcome

    def exists(self, puid: str) -> bool:
        return puid in self.known

    def held(self, puid: str) -> str | None:
        return self.known.get(puid)

    def check(self, statements: Sequence[Any]) -> list[dict[str, list[str]]]:
        """Each statement's errors, in order: the rules, and NOT_UNIQUE for a puid already
        held or met earlier in the same call. The HTTP double answers with these too."""
        found: list[dict[str, list[str]]] = []
        seen: set[str] = set()
        for statement in statements:
            own = {name: list(messages) for name, messages in self.rules(statement).items()}
            puid = statement.get("puid") if isinstance(statement, dict) else None
            if isinstance(puid, str) and (puid in self.known or puid in seen):
                own.setdefault("puid", []).append(NOT_UNIQUE)
            seen.add(puid if isinstance(puid, str) else "")
            found.append(own)
        return found

    def keep(self, statement: dict[str, Any]) -> str:
        """Hold a statement that passed `check`; its new uuid."""
        self.known[statement["puid"]] = new = str(uuid.uuid4())
        return new
