"""The closed sets of review: case states and outcomes, appeal states and outcomes."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    DECIDED = "decided"


OPEN_STATES: tuple[str, ...] = (CaseState.OPEN.value, CaseState.ESCALATED.value)


class CaseOutcome(StrEnum):
    ACTION = "action"
    NO_ACTION = "no_action"


class AppealState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class AppealOutcome(StrEnum):
    """`reversed`: the appeal succeeded and the action was undone; `confirmed`: it stands."""

    REVERSED = "reversed"
    CONFIRMED = "confirmed"
