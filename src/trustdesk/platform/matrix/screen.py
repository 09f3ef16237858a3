"""The decision behind the pre-send check, kept behind one small interface so that the rules
pipeline (safety/pipeline, safety/rules) can replace the simple list below without touching
the connector: put another `ContentScreen` in `container.content_screen`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Verdict:
    block: bool
    reason: str = ""

    @property
    def name(self) -> str:
        return "block" if self.block else "allow"


ALLOW = Verdict(block=False)


class ContentScreen(Protocol):
    """Answers in milliseconds: it sits on the send path of every message."""

    def check_text(self, text: str) -> Verdict: ...

    def check_media(self, *, sha256: str, data: bytes | None) -> Verdict: ...


@dataclass
class ListScreen:
    """Blocks text containing a listed term (case-insensitive) and media whose SHA-256 is
    listed. Lists can change while the server runs (`block_term`, `block_media`)."""

    terms: set[str] = field(default_factory=set)
    media_sha256: set[str] = field(default_factory=set)

    def block_term(self, term: str) -> None:
        self.terms.add(term.casefold())

    def block_media(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.media_sha256.add(digest)
        return digest

    def check_text(self, text: str) -> Verdict:
        folded = text.casefold()
        for term in self.terms:
            if term in folded:
                return Verdict(block=True, reason="matches a blocked term")
        return ALLOW

    def check_media(self, *, sha256: str, data: bytes | None) -> Verdict:
        if sha256.lower() in self.media_sha256:
            return Verdict(block=True, reason="matches a blocked media hash")
        return ALLOW
