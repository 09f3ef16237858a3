"""What a live rule's effects do. The one place the pipeline reaches into the review and
enforcement domains, so that a change of their interface is a change here alone.

Every effect writes an audit entry in the batch's transaction naming the rule, its version,
the rule set version and the file digest, so a reviewer can always answer 'which rule, as
written when, did this'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.service import AuditBatch
from trustdesk.core.clock import Clock
from trustdesk.core.database import rows_matched
from trustdesk.core.paging import PageUrgency, page_on_call
from trustdesk.platform.port import Platform
from trustdesk.safety.automation.service import Decider, rule_decider
from trustdesk.safety.banks.lookup import link_message
from trustdesk.safety.banks.models import MediaHash
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.pipeline.context import entity_of
from trustdesk.safety.pipeline.events import Event, MediaEvent, subject_of
from trustdesk.safety.pipeline.models import EntityLabel, RuleAlert
from trustdesk.safety.pipeline.state import Labels
from trustdesk.safety.review import service as review
from trustdesk.safety.rules.model import CompiledRule, Effect, EffectKind

ACTION_SUBJECTS = {"remove_message": "message", "restrict_account": "actor", "suspend_account": "actor", "close_chat": "chat"}


class _AuditEntry(TypedDict):
    """What an effect's audit entry says, written through the batch or on its own."""

    actor: Actor
    action: str
    object_type: str
    object_id: str | int | None
    reason: str | None
    policy_version: str | None
    details: dict[str, Any]


@dataclass
class EffectContext:
    session: Session
    clock: Clock
    platform: Platform | None
    labels: Labels
    rule: CompiledRule
    event: Event
    ruleset_version: str
    pager: Any = None
    audit: AuditBatch | None = None  # the handler's: its entries are written once per batch of events
    deciders: tuple[Decider, ...] = ()  # the rule and model versions behind this hit (trustdesk.safety.automation)

    @property
    def actor(self) -> Actor:
        return Actor("rule", self.rule.ref)

    @property
    def reason(self) -> str:
        return self.rule.description or f"Matched rule {self.rule.ref}"


def apply_effects(ctx: EffectContext) -> list[dict[str, Any]]:
    """Apply a live rule's effects in order; returns what was done, for the rule hit row."""
    done = []
    for effect in ctx.rule.effects:
        if ctx.audit is not None and effect.kind in RECORDING:
            ctx.audit.flush()  # the entries so far go first: the chain keeps the order of events
        outcome = APPLY[effect.kind](ctx, effect)
        done.append({**effect.describe(), **outcome})
        if effect.kind is EffectKind.VERDICT:
            continue  # a verdict names the outcome; it changes nothing to audit
        entry: _AuditEntry = {
            "actor": ctx.actor,
            "action": f"pipeline.effect.{effect.kind}",
            "object_type": "pipeline_event",
            "object_id": ctx.event.id,
            "reason": ctx.reason,
            "policy_version": ctx.ruleset_version,
            "details": {
                "rule": ctx.rule.name,
                "rule_version": ctx.rule.version,
                "ruleset": ctx.rule.ruleset,
                "ruleset_version": ctx.ruleset_version,
                "rule_file_digest": ctx.rule.digest,
                "effect": effect.describe(),
                "outcome": outcome,
            },
        }
        if ctx.audit is not None:
            ctx.audit.record(**entry)
        else:
            record(ctx.session, clock=ctx.clock, **entry)
    return done


def _verdict(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    return {}


def _add_label(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    kind, entity = entity_of(ctx.event, effect.args["entity"])
    if entity is None:
        return {"skipped": "the event has no such entity"}
    seconds = effect.args.get("expires_seconds")
    now = ctx.clock.now()
    expires = now + timedelta(seconds=seconds) if seconds else None
    ctx.labels.set(kind, entity, effect.args["label"], expires, at=now, by=ctx.rule.ref)
    return {"entity_kind": kind, "entity_id": entity, "expires_at": expires.isoformat() if expires else None}


def _remove_label(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    kind, entity = entity_of(ctx.event, effect.args["entity"])
    if entity is None:
        return {"skipped": "the event has no such entity"}
    ctx.labels.flush(ctx.session)  # labels this batch set are rows before they can be removed
    statement = (
        update(EntityLabel)
        .where(
            EntityLabel.entity_kind == kind,
            EntityLabel.entity_id == entity,
            EntityLabel.label == effect.args["label"],
            EntityLabel.removed_at.is_(None),
        )
        .values(removed_at=ctx.clock.now(), removed_by=ctx.rule.ref)
    )
    removed = rows_matched(ctx.session.execute(statement))
    ctx.labels.drop(kind, entity, effect.args["label"])
    return {"entity_kind": kind, "entity_id": entity, "removed": removed}


def _same_media_case(ctx: EffectContext) -> tuple[str, str, list[str]] | None:
    """The open case about the same media as this event's (the same media id, or another
    upload with the same SHA-256 or PDQ, as `safety_media_hashes` remembers them): one image
    sent by two events makes one case. (kind, id, the media ids now grouped) or None."""
    media = list(getattr(ctx.event, "media", None) or [])
    if not media:
        return None
    ids = {m.media_id for m in media}
    hashes = [MediaHash.sha256 == m.sha256 for m in media if m.sha256] + [MediaHash.pdq == m.pdq for m in media if m.pdq]
    known = ctx.session.scalars(
        select(MediaHash).where(MediaHash.platform == ctx.event.platform, or_(MediaHash.media_id.in_(ids), *hashes))
    ).all()
    carrier = getattr(ctx.event, "message", None)
    for row in known:
        if row.media_id in ids:
            link_message(row, message_id=carrier)  # the event says which message carries it
    candidates = [("media", i) for i in sorted(ids)]
    for row in known:
        candidates += [("media", row.media_id)] + ([("message", row.message_id)] if row.message_id else [])
    for kind, subject in dict.fromkeys(candidates):
        case = review.open_case_for(ctx.session, subject_kind=kind, subject_id=subject)
        if case is not None:
            grouped = [*((case.signals or {}).get("duplicate_media") or ([case.subject_id] if kind == "media" else []))]
            return case.subject_kind, case.subject_id, list(dict.fromkeys([*grouped, *sorted(ids)]))
    return None


def _open_case(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if effect.args.get("subject"):
        kind, subject = entity_of(ctx.event, effect.args["subject"])
    elif isinstance(ctx.event, MediaEvent) and not ctx.event.message:
        kind, subject = "media", ctx.event.media[0].media_id  # an upload not yet in a message
    else:
        kind, subject = subject_of(ctx.event)
    if not effect.args.get("subject") and (same := _same_media_case(ctx)) is not None:
        kind, subject, grouped = same
        extra = {"duplicate_media": grouped} if kind == "media" and len(grouped) > 1 else {}
    case = review.open_case(
        ctx.session,
        actor=ctx.actor,
        clock=ctx.clock,
        subject_kind=str(kind),
        subject_id=str(subject),
        queue=effect.args["queue"],
        priority=effect.args["priority"],
        source="rule",
        reason=ctx.reason,
        rule_ref=ctx.rule.ref,
        signals={"rule": ctx.rule.ref, "event_id": ctx.event.id, "ruleset_version": ctx.ruleset_version, **extra},
    )
    return {"case_id": case.id, "subject_kind": str(kind), "subject_id": str(subject)}


def _take_action(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    """Only reached for actions the automation policy allowed when the rule was loaded."""
    if ctx.platform is None:
        raise RuntimeError("an automatic action needs the platform adapter, and this worker has none")
    field = ACTION_SUBJECTS[effect.args["action"]]
    kind, subject = entity_of(ctx.event, field)
    if subject is None:
        return {"skipped": f"the event has no {field} to act on"}
    action = enforcement.take_action(
        ctx.session,
        actor=ctx.actor,
        clock=ctx.clock,
        platform=ctx.platform,
        subject_kind=kind,
        subject_id=subject,
        action=effect.args["action"],
        policy=effect.args["policy"],
        automated=True,
        source="hash_match",
        reason=ctx.reason,
        rule_ref=ctx.rule.ref,
        deciders=ctx.deciders or (rule_decider(ctx.rule.ruleset, ctx.rule.name, ctx.rule.version),),
        ruleset_version=ctx.ruleset_version,
    )
    return {
        "action_id": action.id,
        "subject_kind": kind,
        "subject_id": subject,
        "platform_ok": getattr(action, "platform_ok", None),
    }


def _alert(ctx: EffectContext, effect: Effect) -> dict[str, Any]:
    row = RuleAlert(
        role=effect.args["role"], message=effect.args["message"], rule_ref=ctx.rule.ref, event_id=ctx.event.id, at=ctx.clock.now()
    )
    ctx.session.add(row)
    ctx.session.flush()
    return {"alert_id": row.id, **_page(ctx, effect, row)}


def _page(ctx: EffectContext, effect: Effect, row: RuleAlert) -> dict[str, Any]:
    """Page the on-call rota (core.paging) when the alert is for it. The page names the
    rule and the event id only: no message text or user data goes to a pager. A pager that
    fails is noted on the hit and does not fail the event (the alert row stays)."""
    if ctx.pager is None or effect.args["role"] != "on_call":
        return {}
    try:
        with ctx.session.begin_nested():
            page = page_on_call(
                ctx.session,
                pager=ctx.pager,
                actor=ctx.actor,
                urgency=PageUrgency.EMERGENCY,
                clock=ctx.clock,
                subject=f"Rule {ctx.rule.ref}: {effect.args['message']}"[:200],
                object_type="pipeline_event",
                object_id=ctx.event.id,
                body=f"{effect.args['message']}. Rule {ctx.rule.ref} matched event {ctx.event.id}; alert {row.id}.",
            )
    except Exception as exc:  # no rota, a pager outage: the alert is recorded, a person sees it on the console
        return {"page_error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"page_id": page.id}


# Effects whose services record in the audit chain themselves (review, enforcement, paging).
RECORDING = frozenset({EffectKind.OPEN_CASE, EffectKind.TAKE_ACTION, EffectKind.ALERT})

APPLY: dict[EffectKind, Callable[[EffectContext, Effect], dict[str, Any]]] = {
    EffectKind.VERDICT: _verdict,
    EffectKind.ADD_LABEL: _add_label,
    EffectKind.REMOVE_LABEL: _remove_label,
    EffectKind.OPEN_CASE: _open_case,
    EffectKind.TAKE_ACTION: _take_action,
    EffectKind.ALERT: _alert,
}
