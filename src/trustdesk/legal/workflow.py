"""The request state machine: the only transitions that exist, and who may make them.

A transition that is not in `ALLOWED` does not happen, whoever asks; the authority itself
may only withdraw its request or answer a clarification."""

from __future__ import annotations

from trustdesk.core.errors import Conflict, Forbidden
from trustdesk.legal.models import RequestState

S = RequestState
ALLOWED: dict[RequestState, frozenset[RequestState]] = {
    S.RECEIVED: frozenset({S.VERIFIED, S.CLARIFICATION_REQUESTED, S.REFUSED, S.WITHDRAWN}),
    S.VERIFIED: frozenset({S.UNDER_REVIEW, S.CLARIFICATION_REQUESTED, S.REFUSED, S.WITHDRAWN}),
    S.CLARIFICATION_REQUESTED: frozenset({S.RECEIVED, S.REFUSED, S.WITHDRAWN, S.CLOSED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REFUSED, S.CLARIFICATION_REQUESTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.PARTLY_ANSWERED, S.ANSWERED, S.WITHDRAWN}),
    S.PARTLY_ANSWERED: frozenset({S.ANSWERED, S.CLOSED, S.WITHDRAWN}),
    S.ANSWERED: frozenset({S.CLOSED}),
    S.REFUSED: frozenset({S.CLOSED}),
    S.WITHDRAWN: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# What the authority may do from the portal or its API: withdraw, or send the request back
# for checking once it has supplied what was asked.
AUTHORITY_MOVES: frozenset[RequestState] = frozenset({S.WITHDRAWN, S.RECEIVED})

# Where the clock stops: nothing is owed to the authority any more.
FINAL: frozenset[RequestState] = frozenset({S.ANSWERED, S.REFUSED, S.WITHDRAWN, S.CLOSED})
# Where the clock is paused: waiting on the authority.
WAITING_ON_AUTHORITY: frozenset[RequestState] = frozenset({S.CLARIFICATION_REQUESTED})


def check_transition(current: RequestState, target: RequestState, *, by_authority: bool) -> None:
    """Raise unless `current -> target` is allowed for this kind of actor."""
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none: the request is closed"
        raise Conflict(f"A request that is {current.value} cannot become {target.value}; allowed next: {allowed}.")
    if by_authority and target not in AUTHORITY_MOVES:
        raise Forbidden(f"The authority may withdraw its request or answer a clarification, not set it to {target.value}.")
