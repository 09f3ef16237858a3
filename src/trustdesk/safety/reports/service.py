"""Notices (Art. 16 DSA): received with everything the article asks of the notifier,
confirmed with a receipt, routed into review (trusted flaggers first, Art. 22), and answered
with the outcome and the notifier's redress once a reviewer has decided."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.core.identity.permissions import Principal, flagger_token_id
from trustdesk.platform.handles import clean_username, looks_like_link, parse_reference, valid_username
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.safety.enforcement.actions import Source, SubjectKind
from trustdesk.safety.enforcement.subjects import describe
from trustdesk.safety.reports.models import Notice, TrustedFlagger
from trustdesk.safety.reports.reasons import ReportReason, get_reason, load_reasons
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import OPEN_STATES, Case, CaseEvent
from trustdesk.safety.review.routing import route

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUSTED_BOOST = 50
MAX_EXPLANATION = 5000
MAX_SUBJECT_ID = 128  # notices.subject_id
REDRESS = (
    "If you disagree, you can ask us to look again with the reply form on this page, turn to a certified out-of-court "
    "dispute settlement body (Art. 21 DSA), or go to court."
)


def _check_notifier(reason: ReportReason, *, name: str | None, email: str | None, flagger: TrustedFlagger | None) -> None:
    if flagger is not None or reason.anonymous_allowed:
        if email and not EMAIL.match(email):
            raise InvalidInput("The e-mail address does not look right.", field="notifier_email")
        return
    if not (name or "").strip():
        raise InvalidInput(
            "Give your name: the law asks for it, except for reports of child sexual abuse material.", field="notifier_name"
        )
    if not email or not EMAIL.match(email):
        raise InvalidInput("Give an e-mail address where we can tell you what we decided.", field="notifier_email")


def _check_statement(explanation: str, good_faith: bool, language: str | None) -> None:
    if not explanation.strip():
        raise InvalidInput("Explain why you think this content is illegal or breaks our rules.", field="explanation")
    if len(explanation) > MAX_EXPLANATION:
        raise InvalidInput(f"Keep the explanation under {MAX_EXPLANATION} characters.", field="explanation")
    if not good_faith:
        raise InvalidInput("Confirm that you believe in good faith that the report is accurate and complete.", field="good_faith")
    if language is not None and not re.fullmatch(r"[a-z]{2}", language):
        raise InvalidInput("Language is a two-letter code such as 'en' or 'de'.", field="language")


def resolve_subject(platform: Platform, subject_kind: str, raw: str) -> tuple[str, str]:
    """What a member of the public gave, as the platform's (kind, id): an id, a username or
    @handle (for an account), or a link to the message, account or chat in the platform's
    link shapes (platform.handles.parse_reference); a link says its own kind. Raises a field
    error on `subject_id` when nothing on the platform matches."""
    text = raw.strip()
    if not text:
        raise InvalidInput("Say what you are reporting: a link to it, or the account's username.", field="subject_id")
    kind, ref = subject_kind, text
    if looks_like_link(text):
        parsed = parse_reference(text)
        if parsed is None:
            raise InvalidInput(
                "We cannot tell what this link points to. Copy the link of the message or account from the app "
                "('Share' or 'Copy link'), or give the account's username.",
                field="subject_id",
            )
        kind, ref = parsed
        if kind == "alias":
            raise InvalidInput(
                "This link names a room, not a message or an account: copy the link of the message itself.",
                field="subject_id",
            )
    if kind == SubjectKind.ACCOUNT:
        return kind, _account_id(platform, ref)
    if kind in (SubjectKind.MESSAGE, SubjectKind.CHAT) and ref.startswith("@"):
        raise InvalidInput(f"'{ref}' is an account: choose 'account', or give the link of the {kind} itself.", field="subject_id")
    return kind, ref


def _account_id(platform: Platform, ref: str) -> str:
    """A full platform id ("@user:server" on Matrix) is looked up as such; anything else as a
    username first (what people know), then as an id (the demo's "u1012")."""
    if ":" in ref:
        try:
            return platform.get_account(ref).id
        except LookupError:
            pass
    elif valid_username(ref):
        found = platform.find_account(username=clean_username(ref))
        if found is not None:
            return found.id
    if ":" not in ref and not ref.startswith("@"):
        try:  # the platform answered the username lookup; an id it cannot parse is just not one
            return platform.get_account(ref).id
        except (LookupError, PlatformError):
            pass
    raise InvalidInput(
        f"We found no account '{ref}'. Check the spelling of the username (with or without '@'), or copy the link "
        "to the account's profile.",
        field="subject_id",
    )


def submit_notice(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    reason: str,
    subject_kind: str,
    subject_id: str,
    explanation: str,
    good_faith: bool,
    notifier_name: str | None = None,
    notifier_email: str | None = None,
    location: str | None = None,
    language: str | None = None,
    flagger: TrustedFlagger | None = None,
) -> Notice:
    """Take one notice; returns it with the receipt token. Nothing is stored if anything is wrong."""
    picked = get_reason(reason)
    if subject_kind not in SubjectKind.__members__.values():
        raise InvalidInput(f"Report a {', '.join(SubjectKind)}.", field="subject_kind")
    _check_notifier(picked, name=notifier_name, email=notifier_email, flagger=flagger)
    _check_statement(explanation, good_faith, language)
    given = subject_id.strip()
    if subject_kind != SubjectKind.MEDIA:
        subject_kind, subject_id = resolve_subject(platform, subject_kind, given)
    if len(subject_id.strip()) > MAX_SUBJECT_ID:
        raise InvalidInput("This is too long to be a message, account or chat; paste its link.", field="subject_id")
        if looks_like_link(given) and not location:
            location = given
    if subject_kind != SubjectKind.MEDIA:
        describe(platform, SubjectKind(subject_kind), subject_id.strip())  # the exact location must exist
    trusted = flagger is not None and flagger.active and picked.key in flagger.fields
    source = Source.TRUSTED_FLAGGER if trusted else Source.NOTICE
    case = review.open_case(
        session,
        actor=actor,
        clock=clock,
        subject_kind=subject_kind,
        subject_id=subject_id.strip(),
        queue=route(policy=picked.policy, source=source, language=language, severity=picked.severity),
        priority=min(100, picked.severity * 10 + (TRUSTED_BOOST if trusted else 0)),
        source=source,
        reason=f"Reported as: {picked.label}",
        policy_hint=picked.policy,
        language=language,
    )
    notice = Notice(
        token=secrets.token_urlsafe(24),
        received_at=clock.now(),
        reason=picked.key,
        subject_kind=subject_kind,
        subject_id=subject_id.strip(),
        location=(location or (given if given != subject_id.strip() else f"{subject_kind}:{subject_id}")).strip()[:2000],
        explanation=explanation.strip(),
        notifier_name=(notifier_name or "").strip() or None,
        notifier_email=(notifier_email or "").strip() or None,
        good_faith=good_faith,
        language=language,
        trusted_flagger_id=flagger.id if flagger else None,
        case_id=case.id,
    )
    session.add(notice)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="notice.receive",
        object_type="notice",
        object_id=notice.id,
        details={"reason": picked.key, "case_id": case.id, "trusted_flagger": trusted},
    )
    return notice


def notice_by_token(session: Session, *, token: str) -> Notice:
    notice = session.scalars(select(Notice).where(Notice.token == token)).first()
    if notice is None:
        raise NotFound("No notice with this receipt; check that you copied all of it.")
    return notice


REPLY_KIND = "notifier_reply"


def reply_to_notice(session: Session, *, clock: Clock, token: str, text: str) -> Case:
    """The notifier's reply from their receipt page: added information while the case is
    open, or, once decided, a complaint asking us to look again (Art. 20 DSA), which opens a
    fresh case about the same subject in the same queue, for a reviewer to decide anew.
    Recorded in the history of the notice's case (and audited); returns the case it went to."""
    notice = notice_by_token(session, token=token)
    if not text.strip():
        raise InvalidInput("Write your reply: what we should know, or why we should look again.", field="text")
    if len(text) > MAX_EXPLANATION:
        raise InvalidInput(f"Keep the reply under {MAX_EXPLANATION} characters.", field="text")
    case = session.get(Case, notice.case_id) if notice.case_id is not None else None
    if case is None:
        raise NotFound("This notice has no case to reply to.")
    actor = Actor("public", "notifier")
    target = case
    if case.state not in OPEN_STATES:
        target = review.open_case(
            session,
            actor=actor,
            clock=clock,
            subject_kind=case.subject_kind,
            subject_id=case.subject_id,
            queue=case.queue,
            priority=case.priority,
            source=Source.TRUSTED_FLAGGER if notice.trusted_flagger_id else Source.NOTICE,
            reason=f"The notifier asks us to look again at case {case.id}",
            policy_hint=case.policy_hint,
            language=case.language,
        )
    review.record_event(
        session,
        case=case,
        actor=actor,
        clock=clock,
        kind=REPLY_KIND,
        notice_id=notice.id,
        complaint=target is not case,
        new_case_id=target.id if target is not case else None,
        reason=text.strip(),
    )
    if target is not case:
        review.record_event(
            session, case=target, actor=actor, clock=clock, kind=REPLY_KIND, notice_id=notice.id, reason=text.strip()
        )
    return target


def replies_to(session: Session, *, notice: Notice) -> list[CaseEvent]:
    """The notifier's replies to this notice, oldest first, as its case's history holds them."""
    if notice.case_id is None:
        return []
    query = select(CaseEvent).where(CaseEvent.case_id == notice.case_id, CaseEvent.kind == REPLY_KIND)
    return [e for e in session.scalars(query.order_by(CaseEvent.id)) if e.detail.get("notice_id") == notice.id]


def notices_for_case(session: Session, *, case_id: int) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case_id).order_by(Notice.received_at)))


def tell_notifiers(session: Session, *, clock: Clock, case_id: int, outcome: str, text: str) -> int:
    """Record the outcome on every notice of the case, as the notifier reads it on their
    receipt page (there is no mailer yet); returns how many notifiers were told."""
    now, told = clock.now(), 0
    for notice in notices_for_case(session, case_id=case_id):
        if notice.outcome is None:
            notice.outcome, notice.outcome_text, notice.decided_at, notice.notified_at = outcome, f"{text} {REDRESS}", now, now
            told += 1
    # Notifiers whose complaint (reply_to_notice) opened this case: the new decision answers it.
    query = select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == REPLY_KIND)
    for notice_id in dict.fromkeys(event.detail.get("notice_id") for event in session.scalars(query)):
        complained = session.get(Notice, notice_id)
        if complained is not None and complained.case_id != case_id:
            complained.outcome, complained.decided_at, complained.notified_at = outcome, now, now
            complained.outcome_text = f"We looked again. {text} {REDRESS}"
            told += 1
    return told


def register_trusted_flagger(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    organisation: str,
    fields: list[str],
    email: str,
    awarded_by: str,
    token_id: int | None = None,
) -> TrustedFlagger:
    """Record an organisation's trusted-flagger status for its field (report reasons)."""
    unknown = [f for f in fields if f not in load_reasons()]
    if unknown or not fields:
        raise InvalidInput(f"Fields must be report reasons; unknown: {', '.join(unknown) or '(none given)'}.", field="fields")
    if not organisation.strip() or not EMAIL.match(email):
        raise InvalidInput("Name the organisation and give its e-mail address.", field="organisation")
    if session.scalars(select(TrustedFlagger).where(TrustedFlagger.organisation == organisation.strip())).first():
        raise InvalidInput(f"{organisation} is already registered.", field="organisation")
    flagger = TrustedFlagger(
        organisation=organisation.strip(),
        fields=sorted(set(fields)),
        email=email,
        awarded_by=awarded_by,
        token_id=token_id,
        active=True,
        created_at=clock.now(),
    )
    session.add(flagger)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="trusted_flagger.register",
        object_type="trusted_flagger",
        object_id=flagger.id,
        details={"organisation": flagger.organisation, "fields": flagger.fields},
    )
    return flagger


def flagger_for(session: Session, *, principal: Principal | None) -> TrustedFlagger | None:
    """The trusted flagger a service token belongs to, if any."""
    token_id = flagger_token_id(principal)
    if token_id is None:
        return None
    return session.scalars(select(TrustedFlagger).where(TrustedFlagger.token_id == token_id)).first()
