"""The emergencies page of the console (/console/emergencies) and the banner every console page
loads. Thin: parse the form, call the lane's services, render.

The page is what on-call works from during an emergency: TCO orders on their one-hour clock
(polled every ten seconds, paused while someone is writing a reason), automatic removals to
confirm, orders a person must remove (blocked until the call-back), threat-to-life drafts to
send or dismiss, open pages to acknowledge, and the escalation trail. Every action is a plain
form post that either changes state with its audit entry or shows why it did not, changing
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core import paging
from trustdesk.core.errors import Conflict, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.emergency import flows, removal, service
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.models import RemovalState, ThreatSource
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render

router = APIRouter(include_in_schema=False)
PAGE = "/console/emergencies"
Handler = Annotated[Principal, Depends(require(Permission.EMERGENCY_HANDLE))]
Text = Annotated[str, Form()]
# What a person reads for each state: what happened and what is expected of them.
STATE_WORDS = {
    RemovalState.AUTO_REMOVED.value: "removed automatically: confirm",
    RemovalState.AWAITING_PERSON.value: "waiting for a person",
    RemovalState.FAILED.value: "the platform refused: act now",
    RemovalState.REMOVED_BY_PERSON.value: "removed by a person",
    RemovalState.CONFIRMED.value: "removed and confirmed",
}


CLOSED = frozenset({RemovalState.CONFIRMED.value, RemovalState.REMOVED_BY_PERSON.value})


def _context(session: Session, container: Container) -> dict[str, Any]:
    now = container.clock.now()
    view = service.overview(session, now=now)
    return {
        "view": view,
        "pages": service.page_rows(session, view.pages),
        "escalations": service.escalations(session),
        "words": STATE_WORDS,
        "now": now,
    }


def _page(request: Request, session: Session, container: Container, status_code: int = 200, **extra: Any) -> HTMLResponse:
    return render(
        request,
        "console/emergencies/index.html",
        status_code=status_code,
        active="emergencies",
        **_context(session, container),
        recent=[r for r in service.recent_removals(session, now=container.clock.now(), limit=10) if r.removal.state in CLOSED],
        closed=[c for c in ttl.recent_cases(session, limit=10) if c.state != "draft"],
        sources=list(ThreatSource),
        **{"values": {}, **extra},
    )


@router.get(PAGE, response_class=HTMLResponse)
def index(request: Request, session: SessionDep, container: ContainerDep, _: Handler) -> HTMLResponse:
    return _page(request, session, container)


@router.get(PAGE + "/live", response_class=HTMLResponse)
def live(request: Request, session: SessionDep, container: ContainerDep, _: Handler) -> HTMLResponse:
    """The polled part: clocks, states, pages; re-rendered whole every ten seconds."""
    return render(request, "console/emergencies/_live.html", **_context(session, container))


@router.get(PAGE + "/banner", response_class=HTMLResponse)
def banner(request: Request, session: SessionDep, container: ContainerDep, _: Handler) -> HTMLResponse:
    """The strip at the top of every console page; empty when nothing is open."""
    return render(
        request, "console/emergencies/_banner.html", view=service.overview(session, now=container.clock.now()), words=STATE_WORDS
    )


@router.get("/console/emergency/pages/{page_id:int}", response_model=None)
def page_link(page_id: RowId, _: Handler) -> RedirectResponse:
    """Where a page's acknowledge link points (paging.py): the page row on the emergencies page."""
    return RedirectResponse(f"{PAGE}#page-{page_id}", status_code=303)


def _act(
    request: Request,
    session: Session,
    container: Container,
    change: Callable[[], object],
    *,
    anchor: str,
    values: dict[str, str] | None = None,
) -> Response:
    """Run one change in a savepoint: done, back to the page at `anchor`; refused, the page
    again with the reason and what was typed, nothing changed."""
    try:
        with session.begin_nested():
            change()
    except TrustdeskError as exc:
        return _page(request, session, container, status_code=exc.status, error=exc.detail, values=values or {})
    return RedirectResponse(f"{PAGE}#{anchor}", status_code=303)


def _lane(container: Container) -> removal.Lane:
    lane = lane_runner.lane_of(container)
    if lane is None:
        raise Conflict("No platform adapter is configured: the lane cannot act. Remove the content on the platform directly.")
    return lane


@router.post(PAGE + "/removals/{removal_id:int}/confirm", response_model=None)
def confirm(
    removal_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler, note: Text = ""
) -> Response:
    return _act(
        request,
        session,
        container,
        lambda: removal.confirm(
            session,
            clock=container.clock,
            actor=actor_of(request, principal),
            principal=principal,
            removal_id=removal_id,
            note=note,
        ),
        anchor=f"removal-{removal_id}",
    )


@router.post(PAGE + "/removals/{removal_id:int}/remove", response_model=None)
def remove(
    removal_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler, reason: Text = ""
) -> Response:
    return _act(
        request,
        session,
        container,
        lambda: flows.remove_by_person(
            session,
            lane=_lane(container),
            actor=actor_of(request, principal),
            principal=principal,
            removal_id=removal_id,
            reason=reason,
        ),
        anchor=f"removal-{removal_id}",
        values={f"reason-{removal_id}": reason},
    )


@router.post(PAGE + "/threats", response_model=None)
def open_threat(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Handler,
    summary: Text = "",
    place: Text = "",
    suspect: Text = "",
    victim: Text = "",
    message_id: Text = "",
    account_id: Text = "",
) -> Response:
    typed = {
        "summary": summary,
        "place": place,
        "suspect": suspect,
        "victim": victim,
        "message_id": message_id,
        "account_id": account_id,
    }
    return _act(
        request,
        session,
        container,
        lambda: ttl.open_case(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            source=ThreatSource.STAFF,
            summary=summary,
            place=place,
            suspect=suspect,
            victim=victim,
            message_id=message_id.strip() or None,
            account_id=account_id.strip() or None,
        ),
        anchor="threats",
        values=typed,
    )


@router.post(PAGE + "/threats/{case_id:int}/send", response_model=None)
def send_threat(
    case_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Handler,
    draft: Text = "",
    note: Text = "",
) -> Response:
    return _act(
        request,
        session,
        container,
        lambda: ttl.confirm_and_send(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            case_id=case_id,
            draft=draft,
            note=note,
        ),
        anchor="threats",
        values={f"draft-{case_id}": draft, f"note-{case_id}": note},
    )


@router.post(PAGE + "/threats/{case_id:int}/dismiss", response_model=None)
def dismiss_threat(
    case_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler, note: Text = ""
) -> Response:
    return _act(
        request,
        session,
        container,
        lambda: ttl.dismiss(
            session, actor=actor_of(request, principal), clock=container.clock, principal=principal, case_id=case_id, note=note
        ),
        anchor="threats",
        values={f"dismiss-{case_id}": note},
    )


@router.post(PAGE + "/pages/{page_id:int}/acknowledge", response_model=None)
def acknowledge(page_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler) -> Response:
    return _act(
        request,
        session,
        container,
        lambda: paging.acknowledge(
            session, page_id=page_id, actor=actor_of(request, principal), username=principal.name, clock=container.clock
        ),
        anchor="pages",
    )
