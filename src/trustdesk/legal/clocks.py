"""Deadlines, as pure functions of the instrument's clock rule and UTC instants.

Every computation is in UTC with exact durations: "8 hours" means 8 elapsed hours even when
a daylight-saving change falls inside them (the console then shows the wall-clock time in
the viewer's zone). Naive datetimes are refused: an instant without a zone is a bug."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from trustdesk.core.clock import as_utc as _utc
from trustdesk.legal.instruments import ClockKind, ClockRule, load_catalogue

if TYPE_CHECKING:
    from trustdesk.legal.models import LawfulRequest


class DeadlineSource(StrEnum):
    """Where `due_at` comes from: the law's own figure, a date the order states (a subpoena's
    return date, an authority's own deadline) that is earlier, or our service target where
    the law says only "without undue delay"; none when there is no answer deadline."""

    STATUTORY = "statutory"
    STATED = "stated"
    TARGET = "target"
    NONE = "none"


@dataclass(frozen=True)
class Deadlines:
    """What the clock says for one request. `due_at` is the answer deadline (None when the
    instrument sets none); `not_before` is the earliest release where the enforcing state
    must first be given its chance to object; `expires_at` ends a preservation. `source` says
    which deadline `due_at` is, and `statutory_due_at` keeps the law's own one beside it."""

    due_at: datetime | None
    not_before: datetime | None = None
    objection_ends_at: datetime | None = None
    expires_at: datetime | None = None
    statutory: bool = True
    source: DeadlineSource = DeadlineSource.STATUTORY
    statutory_due_at: datetime | None = None


def production_deadline(rule: ClockRule, *, received_at: datetime, emergency: bool, enforcing_state_notified: bool) -> Deadlines:
    """e-Evidence Art. 10: 10 days, 8 hours in an emergency. When the enforcing state was
    notified, ordinary data go out only at the end of the 10 days unless it objects; in an
    emergency the 8 hours still hold and the state has 96 hours to object afterwards."""
    start = _utc(received_at)
    hours = rule.emergency_due_hours if emergency and rule.emergency_due_hours else rule.due_hours
    assert hours is not None, "a produce clock needs due_hours"
    due = start + timedelta(hours=hours)
    if not enforcing_state_notified or rule.enforcing_state_wait_hours is None:
        return Deadlines(due_at=due)
    if emergency and rule.enforcing_state_objection_hours_emergency:
        return Deadlines(due_at=due, objection_ends_at=start + timedelta(hours=rule.enforcing_state_objection_hours_emergency))
    wait_end = start + timedelta(hours=rule.enforcing_state_wait_hours)
    return Deadlines(due_at=max(due, wait_end), not_before=wait_end, objection_ends_at=wait_end)


def removal_start(rule: ClockRule, *, received_at: datetime, completed_at: datetime | None = None) -> datetime:
    """When a removal order's clock starts: at receipt, or again when the missing element
    arrives where the rule says so (TCO Art. 3)."""
    start = _utc(received_at)
    if rule.restart_on_completion and completed_at is not None:
        start = max(start, _utc(completed_at))
    return start


def removal_deadline(
    rule: ClockRule, *, received_at: datetime, completed_at: datetime | None = None, complete: bool = True
) -> Deadlines:
    """TCO Art. 3: one hour from receipt; when the order lacked an element, the hour runs
    from the moment the missing element arrives (Art. 3(8)): until then there is no
    deadline, and the order says what it waits for."""
    assert rule.due_hours is not None
    if rule.restart_on_completion and not complete and completed_at is None:
        return Deadlines(due_at=None)
    return Deadlines(
        due_at=removal_start(rule, received_at=received_at, completed_at=completed_at) + timedelta(hours=rule.due_hours)
    )


def preservation_expiry(rule: ClockRule, *, received_at: datetime, extensions: int = 0) -> Deadlines:
    """EPOC-PR: 60 days, once +30; US 2703(f): 90 days, once +90. Extensions past the
    rule's maximum are refused, not silently capped."""
    if extensions < 0 or extensions > rule.max_extensions:
        raise ValueError(f"this preservation allows at most {rule.max_extensions} extension(s)")
    assert rule.preserve_days is not None
    days = rule.preserve_days + extensions * (rule.extension_days or 0)
    return Deadlines(due_at=None, expires_at=_utc(received_at) + timedelta(days=days), source=DeadlineSource.NONE)


def internal_target(rule: ClockRule, *, received_at: datetime, stated_due_at: datetime | None = None) -> Deadlines:
    """'Without undue delay' or 'per the process': the date the process states if any, or
    our own service target, marked as not statutory."""
    if stated_due_at is not None:
        return Deadlines(due_at=_utc(stated_due_at), source=DeadlineSource.STATED)
    if rule.internal_target_hours is None:
        return Deadlines(due_at=None, statutory=False, source=DeadlineSource.NONE)
    return Deadlines(
        due_at=_utc(received_at) + timedelta(hours=rule.internal_target_hours), statutory=False, source=DeadlineSource.TARGET
    )


def earlier_of(law: Deadlines, stated_due_at: datetime | None) -> Deadlines:
    """The earlier of the law's deadline and the one the order states, saying which (issue
    #16, item 10). A stated date never brings the answer before `not_before`: the enforcing
    state's objection window is the law's (e-Evidence Art. 10(2)), so a date inside it leaves
    the statutory deadline in force. Where the law sets no deadline yet (a TCO order waiting
    for its missing element, Art. 3(8)), a stated date does not start one."""
    statutory = law.due_at
    if statutory is None:
        return replace(law, source=DeadlineSource.NONE)
    law = replace(law, statutory_due_at=statutory)
    if stated_due_at is None:
        return law
    stated = _utc(stated_due_at)
    if law.not_before is not None and stated < law.not_before:
        return law
    if stated < statutory:
        return replace(law, due_at=stated, source=DeadlineSource.STATED)
    return law


def compute(
    rule: ClockRule,
    *,
    received_at: datetime,
    emergency: bool = False,
    enforcing_state_notified: bool = False,
    completed_at: datetime | None = None,
    extensions: int = 0,
    stated_due_at: datetime | None = None,
    complete: bool = True,
) -> Deadlines:
    """The deadlines of one request, whatever its instrument's clock kind (`complete`: the
    order holds every required element; a removal order's hour waits for the last one)."""
    match rule.kind:
        case ClockKind.PRODUCE:
            law = production_deadline(
                rule, received_at=received_at, emergency=emergency, enforcing_state_notified=enforcing_state_notified
            )
            return earlier_of(law, stated_due_at)
        case ClockKind.REMOVE:
            law = removal_deadline(rule, received_at=received_at, completed_at=completed_at, complete=complete)
            return earlier_of(law, stated_due_at)
        case ClockKind.PRESERVE:
            return preservation_expiry(rule, received_at=received_at, extensions=extensions)
        case ClockKind.UNDUE_DELAY | ClockKind.PER_PROCESS:
            return internal_target(rule, received_at=received_at, stated_due_at=stated_due_at)
        case ClockKind.UNTIL_DATE:
            return Deadlines(due_at=None, expires_at=stated_due_at and _utc(stated_due_at), source=DeadlineSource.NONE)
        case _:
            return Deadlines(due_at=None, source=DeadlineSource.NONE)


def of_request(request: LawfulRequest) -> Deadlines:
    """The deadlines of a stored request, from its instrument's clock in the catalogue: the one
    computation for intake and for a supplied element (the emergency lane follows its result)."""
    return compute(
        load_catalogue().get(request.instrument).clock,
        received_at=request.received_at,
        emergency=request.emergency,
        enforcing_state_notified=request.enforcing_state_notified,
        completed_at=request.elements_completed_at,
        extensions=request.extensions,
        stated_due_at=request.stated_due_at,
        complete=request.elements_completed_at is not None,
    )


def set_deadlines(request: LawfulRequest) -> None:
    """Write `of_request` onto the request (at intake, and when a missing element restarts the clock)."""
    deadlines = of_request(request)
    request.due_at, request.not_before, request.objection_ends_at = (
        deadlines.due_at,
        deadlines.not_before,
        deadlines.objection_ends_at,
    )
    request.expires_at, request.deadline_statutory = deadlines.expires_at, deadlines.statutory
    request.deadline_source, request.statutory_due_at = str(deadlines.source), deadlines.statutory_due_at


SOURCE_WORDS = {
    DeadlineSource.STATUTORY: "statutory deadline",
    DeadlineSource.STATED: "the date stated in the order (earlier than the statutory deadline)",
    DeadlineSource.TARGET: "internal service target (the law says only: without undue delay)",
    DeadlineSource.NONE: "no answer deadline",
}


def describe_source(source: str | None) -> str:
    """Which deadline the clock shows, in the words a page uses."""
    try:
        return SOURCE_WORDS[DeadlineSource(source or DeadlineSource.STATUTORY)]
    except ValueError:
        return str(source)


def time_left(deadline: datetime | None, *, now: datetime) -> timedelta | None:
    return None if deadline is None else _utc(deadline) - _utc(now)


def describe_time_left(left: timedelta | None) -> str:
    """'7h 59m left', '2d 3h left', '12m overdue': what a reviewer reads in the queue."""
    if left is None:
        return "no deadline"
    seconds = int(abs(left.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return f"{text} left" if left.total_seconds() >= 0 else f"{text} overdue"


def warn_at(*, received_at: datetime, due_at: datetime) -> datetime:
    """When the on-call role is warned: when a fifth of the window is left, but at least
    15 minutes before (a one-hour TCO clock warns at 45 minutes in)."""
    window = _utc(due_at) - _utc(received_at)
    lead = max(window / 5, timedelta(minutes=15))
    return _utc(due_at) - min(lead, window)
