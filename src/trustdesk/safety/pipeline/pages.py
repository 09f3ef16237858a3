"""The pipeline page: what the rules are doing (hits live and in shadow, the latest
backtests), how far behind the pipeline runs, and the dead letters waiting for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.safety.pipeline import deadletters
from trustdesk.safety.pipeline.metrics import handled_count, recent_lag_seconds, rule_hit_counts
from trustdesk.safety.pipeline.models import RuleAlert
from trustdesk.safety.pipeline.runtime import runtime_for
from trustdesk.safety.rules.backtest import latest_backtests, run_backtest
from trustdesk.safety.rules.language import load_rule_file

router = APIRouter(prefix="/console/safety", include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
RuleManager = Annotated[Principal, Depends(require(Permission.RULES_MANAGE))]


def _page(request: Request, session, container, principal: Principal, **extra) -> HTMLResponse:  # type: ignore[no-untyped-def]
    request.state.principal = principal
    book = runtime_for(container).book
    counts: dict[str, dict[str, int]] = {}
    for rule, shadow, n in rule_hit_counts(session):
        counts.setdefault(rule, {})["shadow" if shadow else "live"] = n
    backtests = latest_backtests(session, limit=10)
    last_backtest = {}
    for bt in reversed(backtests):
        for name, result in bt.results.items():
            last_backtest[name] = {"hits": result["hits"], "events": bt.events, "at": bt.run_at}
    median, worst = recent_lag_seconds(session)
    alerts = session.scalars(select(RuleAlert).order_by(RuleAlert.id.desc()).limit(10)).all()
    return render(
        request,
        "console/pipeline.html",
        active="pipeline",
        status=book.status(),
        rules=book.current().rules,
        counts=counts,
        last_backtest=last_backtest,
        backtests=backtests,
        lag_median=median,
        lag_max=worst,
        handled=handled_count(session),
        dead=deadletters.waiting(session, limit=50),
        dead_count=deadletters.count_waiting(session),
        alerts=alerts,
        can_manage=principal.can(Permission.RULES_MANAGE),
        bus=container.settings.bus,
        **extra,
    )


@router.get("", response_class=HTMLResponse)
def safety_landing(request: Request, principal: Reader) -> HTMLResponse:
    """The "Safety" area: where its pages are, as far as the viewer may open them."""
    areas = [
        ("Pipeline", "/console/safety/pipeline", "Rules live and in shadow, backtests, lag and dead letters.", True),
        ("Hash banks", "/console/safety/banks", "Banks of known media, their entries, exchanges and lookups.", True),
        ("Review", "/console/review", "Review queues, cases and appeals.", principal.can(Permission.TRIAGE)),
    ]
    return render(
        request,
        "console/safety.html",
        active="safety",
        areas=[(label, href, hint) for label, href, hint, shown in areas if shown],
    )


@router.get("/pipeline", response_class=HTMLResponse)
def pipeline_page(request: Request, session: SessionDep, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return _page(request, session, container, principal)


@router.post("/pipeline/dead-letters/{dead_letter_id}/replay", response_class=HTMLResponse)
def replay(
    dead_letter_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: RuleManager
) -> HTMLResponse:
    try:
        with session.begin_nested():
            row = deadletters.replay_from_thread(
                session,
                bus=runtime_for(container).bus,
                actor=actor_of(request, principal),
                clock=container.clock,
                dead_letter_id=dead_letter_id,
            )
    except TrustdeskError as exc:
        return _page(request, session, container, principal, error=exc.detail)
    return _page(request, session, container, principal, notice=f"Dead letter {row.id} sent back to the pipeline.")


@router.post("/pipeline/backtest", response_class=HTMLResponse)
def backtest(
    request: Request, session: SessionDep, container: ContainerDep, principal: RuleManager, path: Annotated[str, Form()]
) -> HTMLResponse:
    book = runtime_for(container).book
    if path not in book.status().files:
        return _page(request, session, container, principal, error="That file is not one of the rule files in force.")
    try:
        with session.begin_nested():
            rule_file = load_rule_file(Path(path))
            row = run_backtest(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                rule_file=rule_file,
                hashes=runtime_for(container).handler.hashes,
            )
    except TrustdeskError as exc:
        return _page(request, session, container, principal, error=exc.detail)
    return _page(
        request,
        session,
        container,
        principal,
        notice=f"Backtest of {rule_file.ruleset} v{rule_file.version}: {row.events} stored events replayed.",
    )
