"""Policy decisions on lawful requests: propose, read, adopt, and dry-run a draft policy.

A proposal is a new row with the policy version and the jurisdiction profile version that
made it; it is never recomputed. Adopting a decision moves the request through the workflow
of `trustdesk.legal.service` (refused, sent back for clarification, or under review for a
disclosure), with the decision's reasons as the transition's reason."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.legal import service as legal_requests
from trustdesk.legal.instruments import RefusalReason, load_catalogue
from trustdesk.legal.models import LawfulRequest, RequestState
from trustdesk.legal.policy import facts as facts_
from trustdesk.legal.policy import jurisdictions as jurisdictions_
from trustdesk.legal.policy.engine import Outcome, Proposal, propose
from trustdesk.legal.policy.models import PolicyDecision, PolicyDocument
from trustdesk.legal.policy.rules import Policy, load_policy, parse_policy
from trustdesk.platform.port import Platform


def _document(session: Session, *, policy: Policy, clock: Clock) -> PolicyDocument:
    """The stored text of this policy version; a different text under a version already
    used is refused, since past decisions would then point at the wrong rules."""
    rows = list(session.scalars(select(PolicyDocument).where(PolicyDocument.version == policy.version)))
    for row in rows:
        if row.sha256 == policy.sha256:
            return row
    if rows:
        raise Conflict(
            f"Policy version {policy.version} was already used with different text; give the edited policy a new version."
        )
    row = PolicyDocument(version=policy.version, sha256=policy.sha256, text=policy.text, first_used_at=clock.now())
    session.add(row)
    session.flush()
    return row


def propose_decision(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    platform: Platform,
    request_id: int,
    data_dir: Path | None = None,
    policy: Policy | None = None,
    note: str = "",
) -> PolicyDecision:
    """Run the engine on the request as it stands and record its proposal."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    policy = policy or load_policy()
    profiles = jurisdictions_.load(data_dir)
    facts = facts_.gather(session, request=request, platform=platform)
    proposal = propose(facts, policy=policy, jurisdictions=profiles)
    decision = _decision_row(
        request=request,
        proposal=proposal,
        facts_json=facts_.to_json(facts),
        document=_document(session, policy=policy, clock=clock),
        jurisdictions_version=profiles.version,
        actor=actor,
        clock=clock,
        note=note,
    )
    session.add(decision)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="policy.propose",
        object_type="lawful_request",
        object_id=request.id,
        reason=note or None,
        policy_version=policy.version,
        clock=clock,
        details={
            "decision_id": decision.id,
            "outcome": decision.outcome,
            "rules": list(proposal.rule_ids),
            "jurisdictions_version": profiles.version,
        },
    )
    return decision


def _decision_row(
    *,
    request: LawfulRequest,
    proposal: Proposal,
    facts_json: dict,
    document: PolicyDocument,
    jurisdictions_version: str,
    actor: Actor,
    clock: Clock,
    note: str,
) -> PolicyDecision:
    return PolicyDecision(
        request_id=request.id,
        outcome=proposal.outcome.value,
        categories=sorted(c.value for c in proposal.categories),
        widenable=sorted(c.value for c in proposal.widenable),
        accounts=list(proposal.accounts),
        period_start=proposal.period_start,
        period_end=proposal.period_end,
        reasons=[r.as_dict() for r in proposal.reasons],
        refusal_reason=proposal.refusal_reason and proposal.refusal_reason.value,
        extra_reviews=proposal.extra_reviews,
        callback_required=proposal.callback_required,
        not_before=proposal.not_before,
        narrowed=proposal.narrowed,
        not_held=[list(p) for p in proposal.not_held],
        grounds=[g.as_dict() for g in proposal.grounds],
        facts=facts_json,
        policy_document_id=document.id,
        policy_version=document.version,
        jurisdictions_version=jurisdictions_version,
        proposed_by=str(actor),
        proposed_at=clock.now(),
        note=note.strip(),
    )


def decisions_for(session: Session, *, principal: Principal, request_id: int) -> list[PolicyDecision]:
    """Every decision proposed for the request, newest first."""
    legal_requests.get_request(session, principal=principal, request_id=request_id)
    query = select(PolicyDecision).where(PolicyDecision.request_id == request_id).order_by(PolicyDecision.id.desc())
    return list(session.scalars(query))


def current_decision(session: Session, *, principal: Principal, request_id: int) -> PolicyDecision:
    decisions = decisions_for(session, principal=principal, request_id=request_id)
    if not decisions:
        raise NotFound("No policy decision has been proposed for this request yet.")
    return decisions[0]


def get_decision(session: Session, *, principal: Principal, decision_id: int) -> PolicyDecision:
    decision = session.get(PolicyDecision, decision_id)
    if decision is None:
        raise NotFound(f"No policy decision {decision_id}.")
    legal_requests.get_request(session, principal=principal, request_id=decision.request_id)
    return decision


def _reason_text(decision: PolicyDecision) -> str:
    """The deliberation: every rule with its detail, tier and scores included. Kept in the
    audit record and the decision, never shown to the issuer."""
    cited = "; ".join(f"{r['rule_id']}: {r['detail'] or r['text']}" for r in decision.reasons)
    return f"policy {decision.policy_version} proposed {decision.outcome}" + (f" ({cited})" if cited else "")


ANSWER_WORDS = {
    Outcome.PRODUCE: "the order will be answered in full",
    Outcome.PRODUCE_IN_PART: "the order will be answered in part",
    Outcome.PRESERVE_ONLY: "the data are preserved; nothing is produced until a production order follows",
    Outcome.REFUSE: "the order is refused",
    Outcome.CLARIFY: "the order cannot be decided yet; please supply what is asked",
    Outcome.COMPLY: "the order will be complied with",
    Outcome.COMPLY_IN_PART: "the order will be complied with in part",
    Outcome.CHALLENGE: "the provider contests the order",
}


def issuer_answer(decision: PolicyDecision) -> str:
    """What the issuer is told: the decision and the reasons meant for it (the Annex III
    reason and each reason's words for the issuer), never the policy's deliberation, rule
    ids or the issuing state's rule-of-law tier or score."""
    outcome = Outcome(decision.outcome)
    said = list(dict.fromkeys(r.get("for_issuer") or "" for r in decision.reasons if r.get("for_issuer")))
    text = ANSWER_WORDS[outcome]
    if decision.refusal_reason:
        label = load_catalogue().refusal_reasons.get(RefusalReason(decision.refusal_reason), decision.refusal_reason)
        text += f" ({label})"
    return text[0].upper() + text[1:] + (": " + "; ".join(said) if said else "") + "."


def adopt(session: Session, *, actor: Actor, clock: Clock, principal: Principal, decision_id: int) -> LawfulRequest:
    """Act on the newest decision: refuse, ask for clarification, or take it under review for
    a disclosure or preservation. An older decision cannot be adopted once superseded."""
    decision = get_decision(session, principal=principal, decision_id=decision_id)
    if current_decision(session, principal=principal, request_id=decision.request_id).id != decision.id:
        raise Conflict("A newer decision was proposed for this request; adopt that one.")
    request = legal_requests.get_request(session, principal=principal, request_id=decision.request_id)
    reason = issuer_answer(decision)
    audit.record(
        session,
        actor=actor,
        action="policy.adopt",
        object_type="lawful_request",
        object_id=request.id,
        reason=_reason_text(decision),
        policy_version=decision.policy_version,
        clock=clock,
        details={"decision_id": decision.id, "outcome": decision.outcome},
    )
    refusal = RefusalReason(decision.refusal_reason or RefusalReason.OTHER)
    for state in _path(Outcome(decision.outcome), RequestState(request.state)):
        request = legal_requests.transition(
            session,
            actor=actor,
            clock=clock,
            principal=principal,
            request_id=request.id,
            to_state=state,
            reason=reason,
            refusal_reason=refusal if state is RequestState.REFUSED else None,
        )
    return request


def _path(outcome: Outcome, current: RequestState) -> list[RequestState]:
    """The workflow steps from `current` that carry out `outcome`."""
    if outcome in (Outcome.REFUSE, Outcome.CHALLENGE):  # a challenged gag still holds (notice.py)
        return [RequestState.REFUSED]
    if outcome is Outcome.CLARIFY:
        return [RequestState.CLARIFICATION_REQUESTED]
    if current is RequestState.RECEIVED:
        return [RequestState.VERIFIED, RequestState.UNDER_REVIEW]
    if current is RequestState.VERIFIED:
        return [RequestState.UNDER_REVIEW]
    if current is RequestState.UNDER_REVIEW:
        return []
    raise Conflict(f"A request that is {current.value} cannot be taken under review.")


def update_estimates(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    data_dir: Path,
    text: str,
    source: str,
    release: str,
    dry_run: bool = False,
) -> tuple[jurisdictions_.Jurisdictions, jurisdictions_.Jurisdictions, list[jurisdictions_.TierChange]]:
    """Take a newer WGI Rule of Law release: validate it, say what changes (estimates and
    tiers of the profiled countries), and, unless a dry run, install it with its provenance
    and record who did it, from which source, and every tier that moved."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    estimates = jurisdictions_.check_estimates(text, data_dir=data_dir)  # a bad file is refused first, whatever else
    if not dry_run and (not source.strip() or not release.strip()):
        raise InvalidInput(
            "Say where the file comes from (--source) and which release it is (--release); both are kept with the data."
        )
    before = jurisdictions_.load(data_dir)
    if dry_run:
        with jurisdictions_.PROFILES.open("rb") as fh:
            raw = tomllib.load(fh)
        after = jurisdictions_.parse(raw, estimates, {"release": release or "dry run", "source": source})
        return before, after, jurisdictions_.changes(before, after)
    before, after = jurisdictions_.install_estimates(
        data_dir=data_dir, text=text, source=source.strip(), release=release.strip(), installed=clock.now().isoformat()
    )
    moved = jurisdictions_.changes(before, after)
    audit.record(
        session,
        actor=actor,
        action="legal.jurisdictions.update",
        object_type="jurisdictions",
        object_id=after.version,
        reason=f"{release.strip()} ({source.strip()})",
        clock=clock,
        details={
            "before": before.version,
            "after": after.version,
            "data_year": after.estimates_year,
            "estimates_changed": len(moved),
            "tiers_changed": [f"{c.code} {c.tier_before}->{c.tier_after}" for c in moved if c.tier_before != c.tier_after],
        },
    )
    return before, after, moved


@dataclass(frozen=True)
class DryRunRow:
    decision: PolicyDecision
    draft: Proposal

    @property
    def changed(self) -> bool:
        return (
            self.draft.outcome.value != self.decision.outcome
            or sorted(c.value for c in self.draft.categories) != self.decision.categories
        )


def dry_run(
    session: Session, *, principal: Principal, draft_text: str, data_dir: Path | None = None, limit: int = 500
) -> tuple[Policy, list[DryRunRow]]:
    """What a draft policy would decide on past requests, replaying the facts each decision
    recorded. Writes nothing: past decisions stay as they were made."""
    authorize(principal, Permission.REQUESTS_READ)
    draft = parse_policy(draft_text)
    profiles = jurisdictions_.load(data_dir)
    newest = select(PolicyDecision).order_by(PolicyDecision.request_id, PolicyDecision.id.desc())
    latest: dict[int, PolicyDecision] = {}
    for decision in session.scalars(newest):
        latest.setdefault(decision.request_id, decision)
    rows = [
        DryRunRow(d, propose(facts_.from_json(d.facts), policy=draft, jurisdictions=profiles))
        for d in list(latest.values())[-limit:]
    ]
    return draft, rows
