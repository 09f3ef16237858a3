"""The line between an order refused at once and input that is not an order at all.

An order refused at once (it names no identifier, it names more targets than one request may,
or, filed by an authority itself, it lacks a required element) is still an order: it is
stored in the refused state, with its reason (Annex III of Regulation (EU) 2023/1543 where one
fits), audited, shown in the queue and counted in the government-request numbers. Anything
else that fails validation (malformed input, an unknown instrument, a section the instrument
does not have, a bad category or period, a caller who may not file) is not an order: a 4xx,
nothing stored (docs/legal-requests.md, "Refused at once")."""

from __future__ import annotations

from typing import Any

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import RefusalReason


class RefusedAtOnce(InvalidInput):
    """An order's own defect: intake stores it refused with `reason`; other callers of the
    validators see the plain InvalidInput it is."""

    def __init__(self, detail: str, *, reason: RefusalReason, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.reason = reason
