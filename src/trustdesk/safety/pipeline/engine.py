"""Evaluating one event against the rules in force: the verdict. Pure: no storage, no
effects; the handler and the backtest both use it."""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.safety.pipeline.context import EventContext
from trustdesk.safety.rules.model import CompiledRule, EffectKind


class RuleFailed(Exception):
    """A rule raised on an event (a signal's backend failed, say). The event is retried and,
    if it keeps failing, dead-lettered with this message; other events go on."""


@dataclass(frozen=True)
class Verdict:
    event_id: str
    hits: tuple[CompiledRule, ...]

    @property
    def names(self) -> list[str]:
        """The verdict names of live hits (`verdict("spam")`), else the live rules' names."""
        named = [e.args["verdict"] for r in self.hits if not r.shadow for e in r.effects if e.kind is EffectKind.VERDICT]
        return named or [r.name for r in self.hits if not r.shadow]


def evaluate(ctx: EventContext) -> Verdict:
    hits = []
    for rule in ctx.signals.ruleset.by_kind.get(ctx.event.kind, ()):
        if rule.required_lists and not all(ctx.list_hit(f, name) for f, name in rule.required_lists):
            continue
        try:
            matched = rule.when(ctx)
        except Exception as exc:  # a rule must not take the pipeline down; the event is retried
            raise RuleFailed(f"rule {rule.ref} failed on event {ctx.event.id}: {type(exc).__name__}: {exc}") from exc
        if matched:
            hits.append(rule)
    return Verdict(ctx.event.id, tuple(hits))
