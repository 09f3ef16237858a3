"""Who decided, shadow runs, and promotion.

- Every automated action records its deciders (`record_decision`): the rule, model or bank
  versions, and the policy version applied (`automation_decisions`).
- A rule or model version the pipeline has not seen is registered in shadow. While any decider
  of a rule hit is not active, the hit's effects are not applied: what they would have done
  is recorded as a shadow verdict of each such version (`PromotionGate`).
- Promoting a version (`promote`) is an audited decision that carries its measured
  precision: of the subjects its shadow verdicts flagged, the share that the label source
  says were violating, with the number labelled and a 95 % Wilson interval. The label source
  is an interface (`LabelSource`); `ReviewerDecisions` reads the reviewers' decisions on the
  same subjects, and the quality labels of issue #22 item 1 (blind re-review) plug in the same
  way (`trustdesk.safety.quality`, when present)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.safety.automation.models import (
    AutomatedDecision,
    AutomationVersion,
    DeciderKind,
    ShadowVerdict,
    VersionState,
)
from trustdesk.safety.review.models import Case, CaseOutcome, CaseState

SYSTEM = "system:pipeline"
MIN_LABELLED = 20
Z95 = 1.959964


@dataclass(frozen=True)
class Decider:
    kind: str
    name: str
    version: str
    model: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.name, self.version)

    def as_dict(self) -> dict[str, str]:
        found = {"kind": self.kind, "name": self.name, "version": self.version}
        return found | ({"model": self.model} if self.model else {})


def rule_decider(ruleset: str, name: str, version: int) -> Decider:
    return Decider(DeciderKind.RULE.value, f"{ruleset}/{name}", str(version))


def model_deciders(used: Iterable[dict[str, str]], names: Iterable[str]) -> list[Decider]:
    """The classifiers a rule's condition calls, with the model version that answered."""
    wanted = set(names)
    return [
        Decider(DeciderKind.MODEL.value, m["classifier"], m["version"], m["model"]) for m in used if m["classifier"] in wanted
    ]


_RULE_REF = re.compile(r"^(?P<name>[^@]+)@v(?P<version>\d+)$")


def inferred(rule_ref: str | None, source: str, policy_version: str) -> list[Decider]:
    """The deciders of an automated action that did not name them, from what it records."""
    if rule_ref and (m := _RULE_REF.match(rule_ref)):
        return [Decider(DeciderKind.RULE.value, m["name"], m["version"])]
    if rule_ref and rule_ref.startswith("bank:"):
        return [Decider(DeciderKind.BANK.value, rule_ref.split("/")[0], rule_ref.partition("/")[2] or "")]
    if rule_ref and rule_ref.startswith("strike-threshold"):
        return [Decider(DeciderKind.RULE.value, rule_ref, policy_version)]  # the threshold is part of the policy book
    return [Decider(DeciderKind.RULE.value, rule_ref or source, "")]


def record_decision(
    session: Session,
    *,
    action_id: int,
    deciders: Sequence[Decider],
    policy: str,
    policy_version: str,
    at: datetime,
    ruleset_version: str | None = None,
) -> AutomatedDecision:
    row = AutomatedDecision(
        action_id=action_id,
        deciders=[d.as_dict() for d in deciders],
        policy=policy,
        policy_version=policy_version,
        ruleset_version=ruleset_version,
        at=at,
    )
    session.add(row)
    session.flush()
    return row


def decision_of(session: Session, action_id: int) -> AutomatedDecision | None:
    return session.scalars(select(AutomatedDecision).where(AutomatedDecision.action_id == action_id)).first()


# -- versions, the gate, shadow verdicts -------------------------------------------------------


def find(session: Session, decider: Decider) -> AutomationVersion | None:
    query = select(AutomationVersion).where(
        AutomationVersion.kind == decider.kind,
        AutomationVersion.name == decider.name,
        AutomationVersion.version == decider.version,
    )
    return session.scalars(query).first()


def ensure(session: Session, decider: Decider, *, at: datetime, by: str = SYSTEM) -> AutomationVersion:
    """The version's row; a version not seen before is registered in shadow."""
    row = find(session, decider)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = AutomationVersion(
                kind=decider.kind,
                name=decider.name,
                version=decider.version,
                model=decider.model,
                state=VersionState.SHADOW.value,
                registered_at=at,
                registered_by=by,
            )
            session.add(row)
    except IntegrityError:  # another worker registered it first
        found = find(session, decider)
        if found is None:
            raise
        return found
    return row


class PromotionGate:
    """The pipeline's check, once per batch: may these deciders act? Rows are read once per
    batch and version (a promotion takes effect from the next batch)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], AutomationVersion] = {}

    def begin(self) -> None:
        self._seen.clear()

    def pending(self, session: Session, deciders: Sequence[Decider], *, at: datetime) -> list[AutomationVersion]:
        """The deciders' versions that are not active (registering new ones in shadow)."""
        out = []
        for decider in deciders:
            row = self._seen.get(decider.key)
            if row is None:
                row = self._seen[decider.key] = ensure(session, decider, at=at)
            if row.state != VersionState.ACTIVE.value:
                out.append(row)
        return out


def record_shadow(
    session: Session,
    versions: Sequence[AutomationVersion],
    *,
    event_id: str,
    rule_ref: str,
    subject: tuple[str, str],
    effects: list[dict[str, Any]],
    at: datetime,
) -> None:
    for version in versions:
        session.add(
            ShadowVerdict(
                version_id=version.id,
                event_id=event_id,
                rule_ref=rule_ref,
                subject_kind=subject[0],
                subject_id=subject[1],
                effects=effects,
                at=at,
            )
        )


# -- labels and precision ----------------------------------------------------------------------


class LabelSource(Protocol):
    """Whether a subject was violating (True), was not (False), or is not labelled (None)."""

    name: str

    def label(self, session: Session, subject_kind: str, subject_id: str) -> bool | None: ...


class ReviewerDecisions:
    """The latest decided review case on the same subject: acted on (True) or not (False).
    Until the quality labels of issue #22 item 1 are merged this is the label source; a
    `trustdesk.safety.quality` source with the same method replaces it."""

    name = "reviewer_decisions"

    def label(self, session: Session, subject_kind: str, subject_id: str) -> bool | None:
        query = (
            select(Case.outcome)
            .where(Case.subject_kind == subject_kind, Case.subject_id == subject_id, Case.state == CaseState.DECIDED.value)
            .order_by(Case.decided_at.desc(), Case.id.desc())
        )
        outcome = session.scalars(query).first()
        if outcome is None:
            return None
        return outcome == CaseOutcome.ACTION.value


@dataclass(frozen=True)
class Measurement:
    flagged: int  # distinct subjects the version flagged in shadow
    labelled: int
    true_positives: int
    label_source: str

    @property
    def false_positives(self) -> int:
        return self.labelled - self.true_positives

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % Wilson score interval of the precision."""
        n = self.labelled
        if not n:
            return None
        p, z2 = self.true_positives / n, Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return (max(0.0, centre - half), min(1.0, centre + half))

    def as_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "flagged": self.flagged,
            "labelled": self.labelled,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "precision": None if self.precision is None else round(self.precision, 4),
            "ci95": None if interval is None else [round(interval[0], 4), round(interval[1], 4)],
            "label_source": self.label_source,
        }


def measure(session: Session, version_id: int, labels: LabelSource | None = None) -> Measurement:
    source = labels or ReviewerDecisions()
    subjects = dict.fromkeys(
        (v.subject_kind, v.subject_id)
        for v in session.scalars(select(ShadowVerdict).where(ShadowVerdict.version_id == version_id).order_by(ShadowVerdict.id))
    )
    found = [source.label(session, kind, ident) for kind, ident in subjects]
    known = [f for f in found if f is not None]
    return Measurement(len(subjects), len(known), sum(known), source.name)


# -- promotion ---------------------------------------------------------------------------------


def versions(session: Session, *, name: str | None = None) -> list[AutomationVersion]:
    query = select(AutomationVersion).order_by(AutomationVersion.kind, AutomationVersion.name, AutomationVersion.id)
    if name is not None:
        query = query.where(AutomationVersion.name == name)
    return list(session.scalars(query))


def promote(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    version_id: int,
    labels: LabelSource | None = None,
    min_labelled: int = MIN_LABELLED,
    min_precision: float | None = None,
    note: str | None = None,
) -> tuple[AutomationVersion, Measurement]:
    """Let a version in shadow act, on its measured precision; the version it replaces is
    retired. Refused (nothing changed) when the shadow run has fewer than `min_labelled`
    labelled verdicts, or a precision under `min_precision`."""
    authorize(principal, Permission.RULES_MANAGE)
    row = session.get(AutomationVersion, version_id)
    if row is None:
        raise NotFound(f"No automation version {version_id}.")
    if row.state != VersionState.SHADOW.value:
        raise Conflict(f"{row.kind} {row.name} version {row.version} is {row.state}; only a version in shadow is promoted.")
    measured = measure(session, row.id, labels)
    if measured.labelled < min_labelled:
        raise InvalidInput(
            f"{row.name} version {row.version} has {measured.labelled} labelled shadow verdicts of the {min_labelled} "
            "a promotion needs; let it run in shadow longer.",
            field="version_id",
        )
    precision = measured.precision or 0.0
    if min_precision is not None and precision < min_precision:
        raise InvalidInput(
            f"{row.name} version {row.version} measured a precision of {precision:.3f}, under the {min_precision:.3f} asked.",
            field="version_id",
        )
    now = clock.now()
    replaced = [
        v
        for v in versions(session, name=row.name)
        if v.kind == row.kind and v.state == VersionState.ACTIVE.value and v.id != row.id
    ]
    for old in replaced:
        old.state, old.retired_at = VersionState.RETIRED.value, now
    row.state, row.promoted_at, row.promoted_by = VersionState.ACTIVE.value, now, str(actor)
    row.precision, row.labelled, row.true_positives = measured.precision, measured.labelled, measured.true_positives
    row.label_source, row.note = measured.label_source, (note or "").strip()[:2000] or None
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="automation.promote",
        object_type="automation_version",
        object_id=row.id,
        reason=row.note,
        details={
            "kind": row.kind,
            "name": row.name,
            "version": row.version,
            "model": row.model,
            "shadow_since": row.registered_at.isoformat(),
            "measured": measured.as_dict(),
            "min_labelled": min_labelled,
            "min_precision": min_precision,
            "retired": [{"id": v.id, "version": v.version} for v in replaced],
        },
    )
    return row, measured
