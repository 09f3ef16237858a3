"""Intake: one path for the portal, the API and staff entering a request that came by post
or e-mail. Everything is validated before anything is written, so a bad request creates
nothing half-made; a good one gets a reference, its checklist, its clock and a receipt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.audit.service import digest
from trustdesk.core.blobs import BlobStore
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Forbidden, InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal, authorize, officer_id_of
from trustdesk.legal import attachments, clocks, enforcing
from trustdesk.legal.checks import CONFIDENTIALITY, CheckItem, RequestParts, overall, run_checks
from trustdesk.legal.disclosure import holds
from trustdesk.legal.discovery import accepted_languages
from trustdesk.legal.instruments import Direction, EnforcingStateRule, Instrument, IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.models import (
    Agency,
    LawfulRequest,
    Officer,
    OfficerState,
    RequestAttachment,
    RequestState,
    RequestTarget,
    RequestTransition,
)
from trustdesk.legal.refusals import RefusedAtOnce
from trustdesk.legal.registry import (
    NewAgency,
    contact_differs,
    domain_registered,
    get_agency,
    get_officer,
    lookalike_of,
    record_unverified,
    registered_domains,
)
from trustdesk.legal.targets import (
    MAX_TARGETS,
    Resolution,
    Target,
    TargetItem,
    parse_targets,
    platform_format,
    resolve,
)
from trustdesk.platform.port import DataCategory, Platform

BURST_WINDOW = timedelta(hours=1)
BURST_COUNT = 10  # requests from one agency within the window that look like a campaign


class Channel(StrEnum):
    PORTAL = "portal"
    API = "api"
    STAFF = "staff"  # entered by staff from post or e-mail
    WISP = "wisp"  # the EU decentralised IT system (e-Evidence Art. 19), through legal/eevidence


class Flag(StrEnum):
    """Signals of a forged request (`forgery_signals`), the same on every route."""

    NEW_OFFICER_EMERGENCY_SENSITIVE = "new_officer_emergency_sensitive"
    DOMAIN_NOT_REGISTERED = "domain_not_registered"
    AGENCY_BURST = "agency_burst"
    CALLBACK_DENIED = "callback_denied"
    NEW_AGENCY = "new_agency"  # no request of the agency, and none of its officers, ever confirmed by a call-back
    NEW_OFFICER = "new_officer"  # the person filing or named as sender was never confirmed, or is not in the registry
    EMERGENCY_CONTENT = "emergency_content"  # an emergency asking for traffic or content data
    LOOKALIKE_DOMAIN = "lookalike_domain"  # the sender's domain imitates a registered one
    CONTACT_MISMATCH = "contact_mismatch"  # a telephone number in the request that is not the registry's
    AGENCY_UNVERIFIED = "agency_unverified"  # recorded from this request, not yet verified by a person


@dataclass(frozen=True)
class Submission:
    """A request as an authority (or staff) sends it, before any check."""

    instrument: str
    categories: list[str]
    elements: dict[str, str]
    targets: list[TargetItem]
    emergency: bool = False
    period_start: datetime | None = None
    period_end: datetime | None = None
    enforcing_state_notified: bool = False
    stated_due_at: datetime | None = None
    language: str = "en"
    sender_email: str | None = (
        None  # where a request by e-mail came from (staff entry), or the officer an agency's system files for
    )
    contact_phone: str | None = None  # a telephone number the request gives (never called: see registry.contact_differs)
    attachments: list[attachments.Upload] = field(default_factory=list)
    # The facts of the enforcing-state rule (enforcing.py): country codes or "unknown"; the
    # rule, not `enforcing_state_notified`, decides for an instrument that has one.
    person_country: str | None = None
    offence_country: str | None = None
    received_by_state: str | None = None  # the Member State of the establishment it reached


@dataclass(frozen=True)
class Validated:
    instrument: Instrument
    categories: frozenset[DataCategory]
    elements: dict[str, str]
    targets: list[Target]
    files: list[attachments.CheckedFile]
    person_country: str | None = None  # enforcing.country_fact: a code or "unknown"
    offence_country: str | None = None
    received_by_state: str | None = None


def instrument_for(code: str) -> Instrument:
    try:
        instrument = load_catalogue().get(code)
    except KeyError:
        known = ", ".join(i.code.value for i in load_catalogue().incoming)
        raise InvalidInput(f"'{code}' is not an instrument we accept. Accepted: {known}.", instrument=code) from None
    if instrument.direction is not Direction.INCOMING:
        raise InvalidInput(f"{instrument.name} is sent by the provider, not filed by an authority.")
    return instrument


def _categories(values: list[str]) -> frozenset[DataCategory]:
    try:
        return frozenset(DataCategory(v) for v in values)
    except ValueError:
        raise InvalidInput(f"Data categories are {', '.join(DataCategory)}; got {', '.join(values)}.") from None


def _elements(instrument: Instrument, given: dict[str, str], *, allow_incomplete: bool) -> dict[str, str]:
    keys = {s.key for s in instrument.sections}
    unknown = sorted(set(given) - keys)
    if unknown:
        raise InvalidInput(f"{instrument.name} has no section {', '.join(unknown)}; its sections are {', '.join(sorted(keys))}.")
    elements = {k: v.strip()[:10_000] for k, v in given.items() if v and v.strip()}
    missing = [s.label("en") for s in instrument.sections if s.required and s.key not in elements]
    # A removal order whose clock waits for the missing element (TCO Art. 3(8)) is taken in
    # incomplete from any route: it shows what it waits for rather than being refused.
    if missing and not allow_incomplete and not instrument.clock.restart_on_completion:
        raise RefusedAtOnce(
            f"Required elements of {instrument.name} are missing: {'; '.join(missing)}.",
            reason=RefusalReason.INCOMPLETE,
            missing=missing,
        )
    return elements


LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def language_code(value: str) -> str:
    """The order's language as an ISO 639 code ('en', 'pl'); anything else is refused."""
    code = (value or "").strip().casefold()
    if not LANGUAGE_CODE.fullmatch(code):
        raise InvalidInput(f"The order's language must be an ISO 639 code such as en, fr or pl; got '{value}'.")
    return code


def confidentiality_date(elements: dict[str, str]) -> None:
    """A national court's confidentiality period is a date (YYYY-MM-DD), read by the user
    notice; free text there would hold nothing."""
    value = elements.get(CONFIDENTIALITY)
    if value is None:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"The confidentiality period ends on a date (YYYY-MM-DD); got '{value}'.") from None


def validate(
    submission: Submission, *, allow_incomplete: bool, platform_name: str = "demo", max_targets: int = MAX_TARGETS
) -> Validated:
    """Every structural check, in the order a person fixes them; raises on the first."""
    instrument = instrument_for(submission.instrument)
    categories = _categories(submission.categories)
    elements = _elements(instrument, submission.elements, allow_incomplete=allow_incomplete)
    if submission.period_start and submission.period_end and submission.period_start > submission.period_end:
        raise InvalidInput("The period ends before it starts.")
    language_code(submission.language)
    confidentiality_date(elements)
    targets = parse_targets(
        submission.targets,
        platform_format(platform_name),
        max_targets=max_targets,
        period=(submission.period_start, submission.period_end),
    )
    places = _places(submission)
    files = attachments.check_all(submission.attachments)
    return Validated(instrument, categories, elements, targets, files, *places)


def _places(submission: Submission) -> tuple[str, str, str | None]:
    """The enforcing-state facts as stored: codes or "unknown" (None given is unknown)."""
    received = submission.received_by_state
    return (
        enforcing.country_fact(submission.person_country, field="Where the person lives"),
        enforcing.country_fact(submission.offence_country, field="Where the offence was committed"),
        None if received is None else enforcing.country_fact(received, field="The receiving establishment's State"),
    )


def _issuer(
    session: Session, principal: Principal, agency_id: int | None, new_agency: NewAgency | None = None
) -> tuple[Agency | None, Officer | None]:
    """Who files: an officer or an agency token files for its own agency; staff for any, or
    for an agency not yet in the registry (None here: recorded unverified once the request
    passed validation, so that a bad request creates no agency)."""
    if principal.agency_id is not None:
        authorize(principal, Permission.PORTAL_SUBMIT)
        if new_agency is not None:
            raise Forbidden("An authority files for itself; only staff record an agency that is not in the registry.")
        officer_id = officer_id_of(principal)
        officer = get_officer(session, officer_id=officer_id) if officer_id is not None else None
        if officer is not None and officer.state != OfficerState.VERIFIED:
            raise Forbidden("This officer account cannot file requests.")
        return get_agency(session, agency_id=principal.agency_id), officer
    authorize(principal, Permission.REQUESTS_HANDLE)
    if agency_id is not None and new_agency is not None:
        raise InvalidInput("Give either the registered agency or the details of an agency not in the registry, not both.")
    if agency_id is None and new_agency is None:
        raise InvalidInput(
            "Say which registered agency sent this request, or give the authority's details to record it as unverified."
        )
    return (get_agency(session, agency_id=agency_id) if agency_id is not None else None), None


def _sender(session: Session, *, agency: Agency, officer: Officer | None, submission: Submission) -> tuple[bool, bool]:
    """(known, new) for the person behind a request: the signed-in officer; else the officer
    the sender address names (staff entry, an agency's system); else nobody (unknown)."""
    if officer is not None:
        return True, officer.confirmed_at is None
    if not submission.sender_email:
        return False, False
    named = session.scalar(
        select(Officer).where(Officer.agency_id == agency.id, Officer.email == submission.sender_email.strip().lower())
    )
    if named is None:
        return False, True
    return True, named.confirmed_at is None or named.state != OfficerState.VERIFIED


def _agency_known(session: Session, agency: Agency) -> bool:
    """An agency some request of which, or one of whose officers, was confirmed by a call-back."""
    request = select(LawfulRequest.id).where(
        LawfulRequest.agency_id == agency.id, LawfulRequest.callback_confirmed_at.is_not(None)
    )
    officer = select(Officer.id).where(Officer.agency_id == agency.id, Officer.confirmed_at.is_not(None))
    return session.scalar(request.limit(1)) is not None or session.scalar(officer.limit(1)) is not None


def forgery_signals(
    session: Session,
    *,
    agency: Agency,
    officer: Officer | None,
    categories: frozenset[DataCategory],
    submission: Submission,
    now: datetime,
) -> list[Flag]:
    """The anomaly flags of one request, whatever its route (portal, an agency's system by
    API, staff entering a request that came by e-mail or post): the one place they are
    computed. Any flag holds the request for a call-back to the registry's number. Forged
    emergency requests have come from real but compromised police mailboxes and from
    look-alike domains (LEGAL.md, safeguards; FBI warning, November 2024)."""
    flags: list[Flag] = []
    sensitive = bool(categories & {DataCategory.TRAFFIC, DataCategory.CONTENT})
    known_person, new_person = _sender(session, agency=agency, officer=officer, submission=submission)
    if not agency.verified:
        flags.append(Flag.AGENCY_UNVERIFIED)
    if not _agency_known(session, agency):
        flags.append(Flag.NEW_AGENCY)
    if new_person:
        flags.append(Flag.NEW_OFFICER)
    if submission.emergency and sensitive:
        flags.append(Flag.EMERGENCY_CONTENT)
        if new_person or not known_person:
            flags.append(Flag.NEW_OFFICER_EMERGENCY_SENSITIVE)
    if submission.sender_email and not domain_registered(agency, submission.sender_email):
        flags.append(Flag.DOMAIN_NOT_REGISTERED)
        if lookalike_of(submission.sender_email, [*registered_domains(session), *agency.email_domains]):
            flags.append(Flag.LOOKALIKE_DOMAIN)
    if agency.verified and contact_differs(agency, submission.contact_phone):
        flags.append(Flag.CONTACT_MISMATCH)
    recent = session.scalar(
        select(func.count(LawfulRequest.id)).where(
            LawfulRequest.agency_id == agency.id, LawfulRequest.received_at > now - BURST_WINDOW
        )
    )
    if (recent or 0) + 1 >= BURST_COUNT:
        flags.append(Flag.AGENCY_BURST)
    return flags


def submit_request(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    platform: Platform,
    blobs: BlobStore,
    principal: Principal,
    submission: Submission,
    channel: Channel,
    agency_id: int | None = None,
    max_targets: int = MAX_TARGETS,
    new_agency: NewAgency | None = None,
) -> LawfulRequest:
    """File one request. Raises (and writes nothing) on input that is not an order; an order
    refused at once (refusals.py) is stored refused with its reason; otherwise the request is
    received, checked, timed, and held for a call-back where it must be. Staff may give
    `new_agency` for an authority not in the registry: it is recorded unverified and the
    request is held until a person verifies the agency."""
    agency, officer = _issuer(session, principal, agency_id, new_agency)
    refusal: RefusedAtOnce | None = None
    try:
        validated = validate(
            submission,
            allow_incomplete=channel in (Channel.STAFF, Channel.WISP),
            platform_name=platform.name,
            max_targets=max_targets,
        )
    except RefusedAtOnce as refused:
        refusal, validated = refused, _as_refused(submission, platform_name=platform.name, max_targets=max_targets)
    if agency is None:
        assert new_agency is not None
        agency = record_unverified(session, actor=actor, clock=clock, new=new_agency)
    resolutions = [(t, resolve(t, platform)) for t in validated.targets]
    now = clock.now()
    notified = _enforcing_state(agency, validated, submission)
    checklist = run_checks(_parts(validated, submission, IssuerKind(agency.kind), resolutions, notified))
    flags = forgery_signals(
        session, agency=agency, officer=officer, categories=validated.categories, submission=submission, now=now
    )
    first_time = _first_time(session, agency=agency, officer=officer)
    request = _new_request(
        agency, officer, validated, submission, channel, checklist, flags, actor, now, first_time=first_time, notified=notified
    )
    session.add(request)
    session.flush()
    request.reference = f"LR-{now:%Y}-{request.id:06d}"
    _children(session, request=request, resolutions=resolutions, files=validated.files, blobs=blobs, actor=actor, now=now)
    if refusal is not None:  # received, then refused at once: both moments are on the request
        request.state, request.callback_required = str(RequestState.REFUSED), False
        request.due_at = request.not_before = request.objection_ends_at = request.expires_at = None
        _record_refusal(session, request=request, refusal=refusal, actor=actor, clock=clock)
        return request
    _holds_at_receipt(session, request=request, platform=platform, actor=actor, clock=clock)
    audit.record(
        session,
        actor=actor,
        action="request.receive",
        object_type="lawful_request",
        object_id=request.id,
        details={
            "reference": request.reference,
            "instrument": request.instrument,
            "emergency": request.emergency,
            "verdict": request.verdict,
            "held": request.held,
            "flags": request.flags,
        },
        clock=clock,
    )
    return request


def _holds_at_receipt(session: Session, *, request: LawfulRequest, platform: Platform, actor: Actor, clock: Clock) -> None:
    """Preserve at receipt while the notified enforcing State may object (Reg. 2023/1543
    Art. 10(2)); and link a production order to the holds of the targets it follows."""
    holds.link_production(session, actor=actor, clock=clock, request=request)
    if request.enforcing_state is not None:
        until = request.objection_ends_at or request.not_before or request.due_at or request.received_at
        holds.preserve_at_receipt(session, actor=actor, clock=clock, platform=platform, request=request, until=until)
        audit.record(
            session,
            actor=actor,
            action="request.enforcing_state_notified",
            object_type="lawful_request",
            object_id=request.id,
            details={
                "enforcing_state": request.enforcing_state,
                "person_country": request.person_country,
                "offence_country": request.offence_country,
                "objection_ends_at": request.objection_ends_at and request.objection_ends_at.isoformat(),
            },
            clock=clock,
        )


def _as_refused(submission: Submission, *, platform_name: str, max_targets: int) -> Validated:
    """What an order refused at once is stored as: its instrument, categories and elements as
    given, the targets where there are few enough to read (none when it names none or too
    many), no attachments. Input that is not an order still raises here."""
    instrument = instrument_for(submission.instrument)
    categories = _categories(submission.categories)
    elements = _elements(instrument, submission.elements, allow_incomplete=True)
    try:
        targets = parse_targets(submission.targets, platform_format(platform_name), max_targets=max_targets)
    except RefusedAtOnce:
        targets = []
    return Validated(instrument, categories, elements, targets, [], *_places(submission))


def _record_refusal(session: Session, *, request: LawfulRequest, refusal: RefusedAtOnce, actor: Actor, clock: Clock) -> None:
    session.add(
        RequestTransition(
            request_id=request.id,
            from_state=str(RequestState.RECEIVED),
            to_state=str(RequestState.REFUSED),
            actor=str(actor),
            reason=f"refused at once: {refusal.detail}",
            refusal_reason=str(refusal.reason),
            at=clock.now(),
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.refuse_at_intake",
        object_type="lawful_request",
        object_id=request.id,
        reason=refusal.detail,
        details={"reference": request.reference, "instrument": request.instrument, "refusal_reason": str(refusal.reason)},
        clock=clock,
    )


def _parts(
    validated: Validated,
    submission: Submission,
    issuer: IssuerKind,
    resolutions: list[tuple[Target, Resolution]],
    notified: enforcing.EnforcingState | None = None,
) -> RequestParts:
    return RequestParts(
        instrument=validated.instrument,
        issuer_kind=issuer,
        categories=validated.categories,
        elements=validated.elements,
        emergency=submission.emergency,
        period_start=submission.period_start,
        period_end=submission.period_end,
        targets=resolutions,
        enforcing_state_notified=notified.notify if notified is not None else submission.enforcing_state_notified,
        enforcing_state_computed=notified is not None,
        language=language_code(submission.language),
        accepted_languages=accepted_languages(),
    )


def _first_time(session: Session, *, agency: Agency, officer: Officer | None) -> bool:
    """An officer never confirmed by a call-back, or, for a request without an officer (an
    agency's API token), an agency none of whose requests was ever confirmed."""
    if officer is not None:
        return officer.confirmed_at is None
    confirmed = select(LawfulRequest.id).where(
        LawfulRequest.agency_id == agency.id, LawfulRequest.callback_confirmed_at.is_not(None)
    )
    return session.scalar(confirmed.limit(1)) is None


def _new_request(
    agency: Agency,
    officer: Officer | None,
    validated: Validated,
    submission: Submission,
    channel: Channel,
    checklist: list[CheckItem],
    flags: list[Flag],
    actor: Actor,
    now: datetime,
    *,
    first_time: bool,
    notified: enforcing.EnforcingState | None = None,
) -> LawfulRequest:
    instrument = validated.instrument
    complete = all(k in validated.elements for k in instrument.required_elements)
    request = LawfulRequest(
        reference=f"pending-{now.timestamp()}",
        agency_id=agency.id,
        officer_id=officer.id if officer else None,
        channel=str(channel),
        instrument=str(instrument.code),
        catalogue_version=load_catalogue().version,
        issuer_kind=agency.kind,
        emergency=submission.emergency,
        categories=sorted(str(c) for c in validated.categories),
        elements=validated.elements,
        period_start=submission.period_start,
        period_end=submission.period_end,
        enforcing_state_notified=notified.notify if notified is not None else submission.enforcing_state_notified,
        person_country=validated.person_country,
        offence_country=validated.offence_country,
        enforcing_state=notified.state if notified is not None else None,
        language=language_code(submission.language),
        state=str(RequestState.RECEIVED),
        received_at=now,
        elements_completed_at=now if complete else None,
        stated_due_at=submission.stated_due_at,
        extensions=0,
        checklist=[i.as_dict() for i in checklist],
        verdict=str(overall(checklist)),
        # A certificate that came through the decentralised IT system is authenticated by it
        # (Reg. 2023/1543 Art. 19, mutual TLS per WISP identity): no telephone call-back.
        callback_required=channel is not Channel.WISP and (submission.emergency or first_time or bool(flags)),
        flags=[str(f) for f in flags],
        submission_sha256=digest(_fingerprint(validated, submission)),
        submitted_by=str(actor),
    )
    clocks.set_deadlines(request)
    return request


def _enforcing_state(agency: Agency, validated: Validated, submission: Submission) -> enforcing.EnforcingState | None:
    """Art. 8 computed from the facts for an instrument with the rule; None for one without
    (the flag as given is kept there, and means nothing)."""
    if validated.instrument.enforcing_state_rule is EnforcingStateRule.NONE:
        return None
    computed = enforcing.rule(
        validated.instrument,
        categories=validated.categories,
        issuing_state=agency.country,
        person_country=validated.person_country or enforcing.UNKNOWN,
        offence_country=validated.offence_country or enforcing.UNKNOWN,
        received_by=validated.received_by_state,
    )
    if submission.enforcing_state_notified and not computed.notify and submission.person_country is None:
        # The certificate itself says the enforcing State was notified (an EPOC through the
        # e-Evidence system: TenDaysSubjectToEA) and gives no places to compute from: it is the
        # issuing authority that notifies (Art. 8(1)), so the provider waits as notified.
        state = (validated.received_by_state or enforcing.establishment_state()).upper()
        return enforcing.EnforcingState(True, state, f"the issuing authority states that it notified {state} (Art. 8(1))")
    return computed


def _fingerprint(validated: Validated, submission: Submission) -> dict[str, object]:
    """What the receipt's hash covers: the request as understood, attachments by hash."""
    return {
        "instrument": str(validated.instrument.code),
        "categories": sorted(validated.categories),
        "elements": validated.elements,
        "targets": [[str(t.kind), t.normalised, t.scope.as_json()] for t in validated.targets],
        "emergency": submission.emergency,
        "period": [submission.period_start, submission.period_end],
        "attachments": [f.sha256 for f in validated.files],
    }


def _children(
    session: Session,
    *,
    request: LawfulRequest,
    resolutions: list[tuple[Target, Resolution]],
    files: list[attachments.CheckedFile],
    blobs: BlobStore,
    actor: Actor,
    now: datetime,
) -> None:
    for target, res in resolutions:
        session.add(
            RequestTarget(
                request_id=request.id,
                kind=str(target.kind),
                raw=target.raw[:500],
                normalised=target.normalised,
                account_id=res.account_id,
                message_id=res.message_id,
                resolved=res.resolved,
                note=res.note,
                chat_id=target.scope.chat_id,
                period_start=target.scope.since,
                period_end=target.scope.until,
            )
        )
    for checked in files:
        attachments.store(blobs, checked)  # before its row: a rollback leaves an unreferenced blob, never a row without one
        session.add(
            RequestAttachment(
                request_id=request.id,
                filename=checked.filename,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                uploaded_by=str(actor),
                uploaded_at=now,
            )
        )
    session.add(
        RequestTransition(
            request_id=request.id,
            from_state=None,
            to_state=request.state,
            actor=str(actor),
            reason=f"received by {request.channel}",
            at=now,
        )
    )
    session.flush()
