"""Submitting events: validate everything first (a batch with one bad event is refused
whole, naming each bad one, and nothing is published), then publish each event under its
id, so that the bus drops a resubmission it has seen recently and the handler skips one it
has already handled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from trustdesk.core.bus import Bus
from trustdesk.core.errors import InvalidInput, TooLarge
from trustdesk.safety.pipeline.events import EVENT, MAX_BATCH, Event, describe


def validate(items: Sequence[Any], *, max_batch: int = MAX_BATCH) -> list[Event]:
    """Python values (a decoded JSON batch) to events, or InvalidInput listing every bad one;
    TooLarge for more than `max_batch` items (the pipeline_max_batch setting on the API)."""
    if len(items) > max_batch:
        raise TooLarge(
            f"A batch holds at most {max_batch} events (TRUSTDESK_PIPELINE_MAX_BATCH); this one has {len(items)}. Split it."
        )
    events, problems = [], []
    for position, item in enumerate(items):
        try:
            events.append(EVENT.validate_python(item))
        except ValidationError as exc:
            problems.append(
                {"index": position, "id": item.get("id") if isinstance(item, dict) else None, "detail": describe(exc)}
            )
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"{len(problems)} of {len(items)} events are not valid; nothing was accepted. First: event {first['index']}: {first['detail']}",
            events=problems,
        )
    return events


def subject(event: Event) -> str:
    return f"events.{event.kind}"


async def submit(bus: Bus, events: Sequence[Event]) -> list[str]:
    """Publish validated events; returns their ids."""
    await bus.publish_many([(subject(e), e.model_dump_json().encode(), e.id) for e in events], values=events)
    return [e.id for e in events]
