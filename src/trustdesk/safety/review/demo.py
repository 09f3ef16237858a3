"""Demo review data for `trustdesk demo load`: the queues, the demo reviewers in them, a
trusted flagger, and notices from the demo's people about its bad actors, so that the
review console has work in it. Idempotent: notices are filed only into an empty desk."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.reports import service as reports
from trustdesk.safety.reports.models import Notice, TrustedFlagger
from trustdesk.safety.review import service as review
from trustdesk.safety.review.routing import load_setup

MEMBERS = {
    "reviewer": None,
    "reviewer2": None,
    "senior": None,
    "triage": None,
    "legal": ("legal", "senior"),
    "legal2": ("legal", "senior"),
}
NOTICES = (  # (reason, message key, notifier, explanation)
    ("drugs_weapons", "drug_ad", "Lena Hoffmann", "Someone is selling drugs in our neighbourhood group."),
    ("drugs_weapons", "drug_price_list", "Tom Meier", "A price list for drugs, with a picture."),
    ("extortion", "extortion_threat", "Tom Meier", "This person threatens to send my photos to my family unless I pay."),
    ("terrorism", "propaganda_recruit", None, "Recruiting for a violent group."),
)


def load_demo_review(session: Session, *, platform: DemoPlatform, actor: Actor, clock: Clock) -> int:
    """Returns the number of notices filed (0 when the desk already had some)."""
    review.ensure_queues(session, actor=actor, clock=clock)
    everything = tuple(q.key for q in load_setup().queues if q.key != "legal")
    for username, queues in MEMBERS.items():
        for queue in queues or everything:
            review.add_member(session, actor=actor, clock=clock, queue=queue, username=username)
    if session.scalar(select(func.count()).select_from(Notice)):
        return 0
    flagger = session.scalars(select(TrustedFlagger)).first() or reports.register_trusted_flagger(
        session,
        actor=actor,
        clock=clock,
        organisation="Demo Counter-Extremism Network",
        fields=["terrorism"],
        email="flags@counter-extremism.invalid",
        awarded_by="Coimisiún na Meán (demo)",
    )
    cast = seed_demo(platform)
    for reason, key, name, explanation in NOTICES:
        email = f"{name.split()[0].lower()}@example.org" if name else None
        reports.submit_notice(
            session,
            actor=actor,
            clock=clock,
            platform=platform,
            reason=reason,
            subject_kind="message",
            subject_id=cast.messages[key],
            explanation=explanation,
            good_faith=True,
            notifier_name=name,
            notifier_email=email,
            flagger=flagger if name is None else None,
        )
    return len(NOTICES)
