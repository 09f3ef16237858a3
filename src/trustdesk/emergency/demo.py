"""Demo emergencies for `make run`, made through the real services so the page shows what a real
morning looks like: a TCO removal order filed through the portal by a demo officer on the demo
channel's attack post (a first-time officer, so it is held for the call-back, on-call is paged,
and the one-hour clock runs from the moment of loading), and a threat-to-life draft about the
same channel. Idempotent: each part is made only when the lane has none of its kind yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trustdesk.core.audit import Actor
from trustdesk.emergency import lane as lane_runner
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.models import ThreatCase, ThreatSource
from trustdesk.emergency.removal import TCO
from trustdesk.legal.intake import Channel, Submission, submit_request
from trustdesk.legal.models import LawfulRequest, Officer
from trustdesk.legal.registry import officer_principal
from trustdesk.platform.demo.seed import DemoCast, seed_demo
from trustdesk.platform.port import MessageState

OFFICER = "jonas.weber@lka-bw.polizei.invalid"  # legal/data/demo_agencies.toml: verified, never called back
TARGETS = ("propaganda_attack", "propaganda_recruit")  # the first still visible is ordered down
ELEMENTS = {
    "issuing_authority": "Landeskriminalamt Baden-Württemberg, Abteilung Cybercrime (demo), signed electronically",
    "reasons": "The post glorifies an armed attack and calls on followers to commit more (Art. 2(7)(a) and (c) of Regulation (EU) 2021/784).",
    "redress": "Verwaltungsgericht Stuttgart, within one month of notification.",
}


def _visible_target(container: Any, cast: DemoCast) -> str | None:
    for key in TARGETS:
        message = container.platform.get_message(cast.messages[key])
        if message is not None and message.state is MessageState.VISIBLE:
            return message.id
    return None


def _file_order(container: Any, *, actor: Actor, message_id: str) -> bool:
    with container.db.transaction() as session:
        if session.scalar(select(LawfulRequest.id).where(LawfulRequest.instrument == TCO).limit(1)) is not None:
            return False
        officer = session.scalar(select(Officer).where(Officer.email == OFFICER))
        if officer is None:
            return False
        submission = Submission(instrument=TCO, categories=[], elements=dict(ELEMENTS), targets=[("message_id", message_id)])
        submit_request(
            session,
            actor=actor,
            clock=container.clock,
            platform=container.platform,
            blobs=container.blobs,
            principal=officer_principal(officer),
            submission=submission,
            channel=Channel.PORTAL,
        )
    return True


def _open_case(container: Any, *, actor: Actor, cast: DemoCast) -> bool:
    with container.db.transaction() as session:
        if session.scalar(select(ThreatCase.id).limit(1)) is not None:
            return False
        ttl.open_case(
            session,
            actor=actor,
            clock=container.clock,
            source=ThreatSource.RULE,
            source_ref="demo rule: call to violence",
            message_id=cast.messages["propaganda_attack"],
            account_id=cast.accounts["herald"],
            place="DE",
            suspect="GB",
            summary="The 'Iron Dawn Bulletin' channel celebrates an armed attack 'last night' and calls on its followers to act next; "
            "its members are in Germany, the poster's phone number is British.",
        )
    return True


def load_demo_emergency(container: Any, *, actor: Actor) -> tuple[int, int]:
    """File the demo TCO order and open the demo threat case; returns how many of each were made.
    The order then goes through the lane as it would on arrival (`trustdesk demo load` runs
    without the server, whose commit hook would otherwise take it in)."""
    cast = seed_demo(container.platform)
    message_id = _visible_target(container, cast)
    filed = message_id is not None and _file_order(container, actor=actor, message_id=message_id)
    lane = lane_runner.lane_of(container)
    if filed and lane is not None:
        with container.db.transaction() as session:
            session.info[lane_runner.LANE_SESSION] = True
            lane_runner.process_pending(session, lane=lane)
    return int(filed), int(_open_case(container, actor=actor, cast=cast))
