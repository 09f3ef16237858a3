"""Reading the DSA report's facts from the records of the legal and safety domains.

What counts where (the report's method, also printed on the page):
- an order: a request from an authority of an EU Member State under an instrument the
  template file lists, received in the period; receipt is confirmed at once by the signed
  receipt of the portal and the API, and for an order entered by staff by their first
  message to the authority; it takes effect when it is first answered;
- a notice: received in the period; from a trusted flagger when the flagger holds the
  status for the notice's reason; its action is the action of the decision on its case;
- an own-initiative action: taken in the period, effective on the platform, started by a
  rule, a hash match or staff on their own initiative (not by a notice or an order);
- a complaint: an appeal filed in the period;
- the accuracy of automated tools: automated actions taken in the period and whether a
  complaint reversed them; cases opened by a tool and decided in the period and whether
  the reviewer found nothing to act on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.legal.disclosure import numbers
from trustdesk.legal.models import LawfulRequest, RequestMessage, RequestState, RequestTarget, RequestTransition
from trustdesk.safety.enforcement.actions import SPECS, ActionKind, Source
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.reports.models import Notice, TrustedFlagger
from trustdesk.safety.reports.reasons import load_reasons
from trustdesk.safety.review.models import Appeal, AppealOutcome, Case, CaseOutcome, CaseState, Decision
from trustdesk.transparency.reports.dsa import (
    ComplaintFacts,
    DsaFacts,
    MeasureFacts,
    NoticeFacts,
    OrderFacts,
    OwnActionFacts,
    SuspensionFacts,
    ToolFacts,
)
from trustdesk.transparency.reports.figures import hours_between
from trustdesk.transparency.reports.periods import Period
from trustdesk.transparency.reports.template import load_template

AUTOMATIC_RECEIPT = frozenset({"portal", "api"})
EFFECT = frozenset({RequestState.ANSWERED.value, RequestState.PARTLY_ANSWERED.value})
TOOLS = frozenset({Source.RULE.value, Source.HASH_MATCH.value})
OWN_INITIATIVE = frozenset({Source.RULE.value, Source.HASH_MATCH.value, Source.OWN_INITIATIVE.value})
MACHINES = ("rule:", "system:")  # actors that are not people (trustdesk.core.audit.Actor kinds)
RESTRICTIONS = {
    "decision_visibility": "visibility",
    "decision_provision": "provision",
    "decision_account": "account",
    "decision_monetary": "monetary",
}


def gather(session: Session, *, period: Period) -> DsaFacts:
    return DsaFacts(
        orders=orders(session, period=period),
        notices=notices(session, period=period),
        own_actions=own_actions(session, period=period),
        complaints=complaints(session, period=period),
        tools=tools(session, period=period),
        measures=measures(session, period=period),
        suspensions=suspensions(session, period=period),
    )


def _in(column, period: Period):  # type: ignore[no-untyped-def]
    return (column >= period.start) & (column < period.end)


def category_of_policy(policy: str | None) -> str:
    known = load_policies().policies.get(policy or "")
    return known.category if known else load_template().unspecified_category


def keyword_of_policy(policy: str | None) -> str | None:
    """The policy's first DSA keyword: the sub-category of Annex I an item is counted under."""
    known = load_policies().policies.get(policy or "")
    return known.keywords[0] if known and known.keywords else None


# The Annex I columns of Parts 5 and 6 ("restriction" columns), by the statement's decision_* value.
MEASURE_COLUMNS = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Visibility restriction Removal",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Visibility restriction Disable",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Visibility restriction Demoted",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Visibility restriction Age restricted",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Visibility restriction Interaction restricted",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Visibility restriction Labelled ",
    "DECISION_VISIBILITY_OTHER": "Visibility restriction Other",
    "DECISION_MONETARY_SUSPENSION": "Monetary restriction Suspension",
    "DECISION_MONETARY_TERMINATION": "Monetary restriction Termination",
    "DECISION_MONETARY_OTHER": "Monetary restriction Other",
    "DECISION_PROVISION_PARTIAL_SUSPENSION": "Provision of the service Suspension",
    "DECISION_PROVISION_TOTAL_SUSPENSION": "Provision of the service Suspension",
    "DECISION_PROVISION_PARTIAL_TERMINATION": "Provision of the service Termination",
    "DECISION_PROVISION_TOTAL_TERMINATION": "Provision of the service Termination",
    "DECISION_ACCOUNT_SUSPENDED": "Account restriction Suspension",
    "DECISION_ACCOUNT_TERMINATED": "Account restriction Termination",
}


def measure_of(action: str) -> str:
    """The Annex I Part 5/6 column an action is counted in."""
    value = next(iter(SPECS[ActionKind(action)].dsa.values()))
    first = value[0] if isinstance(value, list) else value
    return MEASURE_COLUMNS[first]


def ground_of(action: EnforcementAction) -> str:
    return "law" if action.decision_ground == "DECISION_GROUND_ILLEGAL_CONTENT" else "terms"


def restriction_of(action: str) -> str:
    field = next(iter(SPECS[ActionKind(action)].dsa))
    return RESTRICTIONS[field]


# -- orders ------------------------------------------------------------------------------------


def orders(session: Session, *, period: Period) -> list[OrderFacts]:
    template = load_template()
    # The lawful-request domain's one definition of a request received (issue #16 item 14).
    query = numbers.received(period.start, period.end, instruments=template.act_orders | template.information_orders)
    found = []
    for request, country in session.execute(query).all():
        if country.upper() not in template.member_states:
            continue
        found.append(
            OrderFacts(
                kind=template.order_kind(request.instrument) or "",
                member_state=country.upper(),
                category=_order_category(session, request),
                hours_to_confirm=hours_between(request.received_at, _confirmed_at(session, request)),
                hours_to_effect=hours_between(request.received_at, _effect_at(session, request)),
                items=max(1, _targets(session, request.id)),
                ref=f"request:{request.id}",
            )
        )
    return found


def _targets(session: Session, request_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RequestTarget).where(RequestTarget.request_id == request_id)) or 0


def _order_category(session: Session, request: LawfulRequest) -> str:
    """The category of the action taken on the order (the enforcement record names the
    request's reference), else the instrument's own (terrorist content for TCO), else
    'not specified'."""
    query = select(EnforcementAction.policy).where(
        EnforcementAction.source == Source.LEGAL.value, EnforcementAction.rule_ref == request.reference
    )
    policy = session.scalars(query.order_by(EnforcementAction.id)).first()
    if policy is not None:
        return category_of_policy(policy)
    template = load_template()
    return template.default_category.get(request.instrument, template.unspecified_category)


def _confirmed_at(session: Session, request: LawfulRequest) -> datetime | None:
    if request.channel in AUTOMATIC_RECEIPT:
        return request.received_at
    query = select(RequestMessage.sent_at).where(
        RequestMessage.request_id == request.id, RequestMessage.from_authority.is_(False)
    )
    return session.scalars(query.order_by(RequestMessage.sent_at)).first()


def _effect_at(session: Session, request: LawfulRequest) -> datetime | None:
    query = select(RequestTransition.at).where(
        RequestTransition.request_id == request.id, RequestTransition.to_state.in_(sorted(EFFECT))
    )
    return session.scalars(query.order_by(RequestTransition.at)).first()


# -- notices -----------------------------------------------------------------------------------


def notices(session: Session, *, period: Period) -> list[NoticeFacts]:
    reasons = load_reasons()
    flaggers = {f.id: f for f in session.scalars(select(TrustedFlagger))}
    found = []
    for notice in session.scalars(select(Notice).where(_in(Notice.received_at, period)).order_by(Notice.id)):
        reason = reasons.get(notice.reason)
        flagger = flaggers.get(notice.trusted_flagger_id) if notice.trusted_flagger_id else None
        decision, action = _decision(session, notice.case_id)
        found.append(
            NoticeFacts(
                category=category_of_policy(reason.policy if reason else None),
                trusted_flagger=flagger is not None and notice.reason in flagger.fields,
                decided=decision is not None,
                ground=ground_of(action) if action is not None else None,
                automated=action.automated if action is not None else bool(decision and decision.decided_by.startswith(MACHINES)),
                hours_to_action=hours_between(notice.received_at, action.acted_at) if action is not None else None,
                keyword=keyword_of_policy(reason.policy if reason else None),
                ref=f"notice:{notice.id}",
                action_ref=f"action:{action.id}" if action is not None else "",
            )
        )
    return found


def _decision(session: Session, case_id: int | None) -> tuple[Decision | None, EnforcementAction | None]:
    """The decision that closed the case, and its action when one took effect."""
    if case_id is None:
        return None, None
    case = session.get(Case, case_id)
    if case is None or case.state != CaseState.DECIDED.value:
        return None, None
    decision = session.scalars(select(Decision).where(Decision.case_id == case_id).order_by(Decision.id.desc())).first()
    action = session.get(EnforcementAction, decision.action_id) if decision and decision.action_id else None
    return decision, action if action is not None and action.platform_ok else None


# -- own initiative, complaints, tools ---------------------------------------------------------


def own_actions(session: Session, *, period: Period) -> list[OwnActionFacts]:
    query = select(EnforcementAction).where(
        _in(EnforcementAction.acted_at, period),
        EnforcementAction.platform_ok.is_(True),
        EnforcementAction.source.in_(sorted(OWN_INITIATIVE)),
    )
    return [
        OwnActionFacts(
            category=category_of_policy(a.policy),
            restriction=restriction_of(a.action),
            ground=ground_of(a),
            detection="automated" if a.source in TOOLS or a.automated else "manual",
            keyword=keyword_of_policy(a.policy),
            measure=measure_of(a.action),
            ref=f"action:{a.id}",
        )
        for a in session.scalars(query.order_by(EnforcementAction.id))
    ]


def complaints(session: Session, *, period: Period) -> list[ComplaintFacts]:
    query = select(Appeal, EnforcementAction.action).join(EnforcementAction, EnforcementAction.id == Appeal.action_id)
    rows = session.execute(query.where(_in(Appeal.filed_at, period)).order_by(Appeal.id)).all()
    return [
        ComplaintFacts(
            restriction=restriction_of(action),
            outcome=appeal.outcome,
            hours_to_decide=hours_between(appeal.filed_at, appeal.decided_at),
            ref=f"appeal:{appeal.id}",
        )
        for appeal, action in rows
    ]


def tools(session: Session, *, period: Period) -> list[ToolFacts]:
    reversed_ids = set(session.scalars(select(Appeal.action_id).where(Appeal.outcome == AppealOutcome.REVERSED.value)))
    query = select(EnforcementAction).where(
        _in(EnforcementAction.acted_at, period), EnforcementAction.platform_ok.is_(True), EnforcementAction.automated.is_(True)
    )
    found = [
        ToolFacts(
            tool=_tool(a),
            kind="decision",
            wrong=a.id in reversed_ids,
            ref=f"action:{a.id}",
            own_initiative=a.source in OWN_INITIATIVE,
        )
        for a in session.scalars(query.order_by(EnforcementAction.id))
    ]
    cases = select(Case).where(_in(Case.decided_at, period), Case.source.in_(sorted(TOOLS))).order_by(Case.id)
    found += [
        ToolFacts(tool=c.source, kind="review", wrong=c.outcome == CaseOutcome.NO_ACTION.value, ref=f"case:{c.id}")
        for c in session.scalars(cases)
    ]
    return found


def _tool(action: EnforcementAction) -> str:
    """Which automated means decided: a hash match, a rule, or strike counting."""
    if action.rule_ref and action.rule_ref.startswith("strike-threshold"):
        return "strikes"
    return action.source if action.source in TOOLS else "other"


def measures(session: Session, *, period: Period) -> list[MeasureFacts]:
    """Every action that took effect in the period, solely automated or not (Annex I Part 8)."""
    query = select(EnforcementAction).where(_in(EnforcementAction.acted_at, period), EnforcementAction.platform_ok.is_(True))
    return [
        MeasureFacts(
            automated=a.automated,
            source="own_initiative" if a.source in OWN_INITIATIVE else a.source,
            ref=f"action:{a.id}",
        )
        for a in session.scalars(query.order_by(EnforcementAction.id))
    ]


def suspensions(session: Session, *, period: Period) -> list[SuspensionFacts]:
    """Account suspensions a strike threshold triggered in the period (Art. 23(1) DSA)."""
    query = select(EnforcementAction).where(
        _in(EnforcementAction.acted_at, period),
        EnforcementAction.platform_ok.is_(True),
        EnforcementAction.action == ActionKind.SUSPEND_ACCOUNT.value,
        EnforcementAction.rule_ref.like("strike-threshold%"),
    )
    return [SuspensionFacts(ref=f"action:{a.id}") for a in session.scalars(query.order_by(EnforcementAction.id))]
