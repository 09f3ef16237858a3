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
    event = ctx.event
    for rule in _candidates(ctx):
        if rule.required_fields and not _present(event, rule.required_fields):
            continue
        if rule.required_lists and not _lists_hit(ctx, rule.required_lists):
            continue
        if rule.required_patterns and not _patterns_found(ctx, rule.required_patterns):
            continue
        try:
            matched = rule.when(ctx)
        except Exception as exc:  # a rule must not take the pipeline down; the event is retried
            raise RuleFailed(f"rule {rule.ref} failed on event {ctx.event.id}: {type(exc).__name__}: {exc}") from exc
        if matched:
            hits.append(rule)
    if len(hits) > 1:  # candidates come guard by guard; effects apply in rule-file order
        order = ctx.signals.ruleset.order
        hits.sort(key=lambda r: order[id(r)])
    return Verdict(ctx.event.id, tuple(hits))


def _candidates(ctx: EventContext) -> list[CompiledRule] | tuple[CompiledRule, ...]:
    """Only the rules whose guards this event can pass (each rule is filed under one guard,
    so none comes twice), in no particular order: conditions are pure, and `evaluate` puts
    the hits in rule-file order."""
    event = ctx.event
    plan = ctx.signals.ruleset.plans.get(event.kind)
    if plan is None:
        return ()
    extra: list[CompiledRule] = list(plan.media) if getattr(event, "media", None) else []
    for field in plan.list_fields:
        for name in ctx.lists_hit(field):
            extra.extend(plan.by_list.get((field, name), ()))
    for field in plan.pattern_fields:
        for source in ctx.patterns_hit(field):
            extra.extend(plan.by_pattern.get((field, source), ()))
    for field in plan.label_fields:
        for label in ctx.labels_of(field):
            extra.extend(plan.by_label.get((field, label), ()))
    for field in plan.value_fields:
        value = getattr(event, field, None)
        if value is not None:  # str(): an enum field (chat_kind) hashes by its name, not its value
            extra.extend(plan.by_value.get((field, str(value)), ()))
    for spec, (widest, filed) in plan.by_count.items():
        reach = ctx.count(spec, widest)
        for minimum, rule in filed:  # by rising minimum
            if minimum > reach:
                break
            extra.append(rule)
    if not extra:
        return plan.plain
    extra.extend(plan.plain)
    return extra


def _present(event: object, fields: tuple[str, ...]) -> bool:
    for name in fields:
        if not getattr(event, name, None):
            return False
    return True


def _patterns_found(ctx: EventContext, required: tuple[tuple[str, str], ...]) -> bool:
    for field, source in required:
        if source not in ctx.patterns_hit(field):
            return False
    return True


def _lists_hit(ctx: EventContext, required: tuple[tuple[str, str], ...]) -> bool:
    for field, name in required:
        if name not in ctx.lists_hit(field):
            return False
    return True
