"""The authority registry: agencies and their officers, officer sign-in to the portal.

An officer is an external user with the same protections as staff (Argon2 password, TOTP
second factor with replay protection, lockout after repeated failures), but their own table
and their own sessions: a portal cookie never opens the console."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import OFFICER_PERMISSIONS, Permission, Principal, PrincipalKind, authorize
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import Agency, Officer, OfficerState, PortalSession
from trustdesk.platform.handles import normalise_phone

AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9-]+\.)+[a-z]{2,}$")
MIN_PASSWORD = identity.MIN_PASSWORD


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- agencies ---------------------------------------------------------------------------------


def create_agency(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    code: str,
    name: str,
    country: str,
    kind: IssuerKind,
    email_domains: list[str],
    callback_phone: str,
    callback_source: str,
    language: str = "en",
    parent_code: str | None = None,
    is_demo: bool = False,
) -> Agency:
    """Register an agency. The call-back number must come with its official source."""
    if not AGENCY_CODE.match(code):
        raise InvalidInput("An agency code is 2-64 lower-case letters, digits or '-'.")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(f"'{country}' is not an ISO 3166-1 alpha-2 country code (e.g. FR, DE, US).")
    domains = sorted({d.strip().lower() for d in email_domains if d.strip()})
    if not domains or not all(DOMAIN.match(d) for d in domains):
        raise InvalidInput("Give at least one valid e-mail domain (e.g. justice.fr).")
    phone = normalise_phone(callback_phone)
    if phone is None or not callback_source.strip():
        raise InvalidInput(
            "The call-back number must be a full international number, with the official source it was taken from."
        )
    if session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise Conflict(f"An agency with code '{code}' already exists.")
    parent = get_agency(session, code=parent_code).id if parent_code else None
    agency = Agency(
        code=code,
        name=name.strip(),
        country=country,
        kind=str(kind),
        parent_id=parent,
        email_domains=domains,
        callback_phone=phone,
        callback_source=callback_source.strip(),
        language=language,
        created_at=clock.now(),
        is_demo=is_demo,
    )
    session.add(agency)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agency.create",
        object_type="agency",
        object_id=agency.id,
        details={"code": code, "country": country, "kind": str(kind)},
        clock=clock,
    )
    return agency


def get_agency(session: Session, *, code: str | None = None, agency_id: int | None = None) -> Agency:
    query = select(Agency).where(Agency.code == code) if code else select(Agency).where(Agency.id == agency_id)
    agency = session.scalar(query)
    if agency is None:
        raise NotFound(f"No agency '{code or agency_id}' in the registry.")
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.country, Agency.name)))


def domain_registered(agency: Agency, email: str) -> bool:
    return _within(_domain_of(email), agency.email_domains)


def _domain_of(email: str) -> str:
    domain = email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    try:
        return domain.encode("ascii").decode("idna") if "xn--" in domain else domain
    except UnicodeError:
        return domain


def _within(domain: str, registered: Iterable[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in registered)


# Characters a forger swaps for ones that look alike (and the pairs that read as one).
CONFUSABLE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "5": "s", "_": "-"})
LOOKALIKE_DISTANCE = 2  # edits (insert, delete, substitute, swap two neighbours)
LOOKALIKE_MIN_LENGTH = 6  # shorter registered domains are compared only by their skeleton


def _skeleton(domain: str) -> str:
    return domain.replace("rn", "m").replace("vv", "w").translate(CONFUSABLE).replace("-", "").replace(".", "")


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance: Levenshtein plus the swap of two neighbours."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def lookalike_of(email_or_domain: str, registered: Iterable[str]) -> str | None:
    """The registered domain that `email_or_domain` imitates, or None. A registered domain
    and its subdomains are never look-alikes; a domain is one when it is within two edits
    of a registered one, reads the same once look-alike characters are folded (0/o, 1/l,
    rn/m, vv/w, punycode decoded), or carries a registered domain inside a longer name
    (`police.fr.secure-mail.com`, `police-fr.com`). Forged emergency requests came from
    such domains as well as from real mailboxes (FBI warning, November 2024)."""
    domain, known = _domain_of(email_or_domain), sorted({d.lower() for d in registered})
    if not domain or _within(domain, known):
        return None
    for real in known:
        if _skeleton(domain) == _skeleton(real):
            return real
        if len(real) >= LOOKALIKE_MIN_LENGTH and _distance(domain, real) <= LOOKALIKE_DISTANCE:
            return real
        if len(real) >= LOOKALIKE_MIN_LENGTH and (real in domain or real.replace(".", "-") in domain):
            return real
    return None


def registered_domains(session: Session) -> list[str]:
    """Every agency's registered e-mail domains (verified agencies only): what a sender's
    domain is compared against for look-alikes."""
    rows = session.scalars(select(Agency.email_domains).where(Agency.verified.is_(True)))
    return sorted({d for domains in rows for d in domains})


def contact_differs(agency: Agency, phone: str | None) -> bool:
    """A telephone number given in a request that is not the registry's call-back number:
    staff never call it (the call-back is always to the registry's number)."""
    if not phone or not phone.strip():
        return False
    return normalise_phone(phone) != agency.callback_phone


@dataclass(frozen=True)
class NewAgency:
    """An authority not in the registry yet, as staff read it off a request by post or e-mail."""

    name: str
    country: str
    kind: IssuerKind
    email_domains: list[str]
    language: str = "en"


def record_unverified(session: Session, *, actor: Actor, clock: Clock, new: NewAgency) -> Agency:
    """Record an agency that is not in the registry yet, unverified and without a call-back
    number: its requests can be entered, and stay held until a person verifies it with a
    number from an official source (`verify_agency`). Its domains do not count as registered
    for look-alike checks until then."""
    if not new.name.strip():
        raise InvalidInput("Name the authority that sent the request.")
    if not re.fullmatch(r"[A-Z]{2}", new.country):
        raise InvalidInput(f"'{new.country}' is not an ISO 3166-1 alpha-2 country code (e.g. FR, DE, US).")
    domains = sorted({d.strip().lower() for d in new.email_domains if d.strip()})
    if not all(DOMAIN.match(d) for d in domains):
        raise InvalidInput("An e-mail domain is a name like justice.fr.")
    agency = Agency(
        code=f"unverified-{new.country.lower()}-{secrets.token_hex(4)}",
        name=new.name.strip()[:200],
        country=new.country,
        kind=str(new.kind),
        email_domains=domains,
        callback_phone="",
        callback_source="",
        language=new.language,
        created_at=clock.now(),
        verified=False,
    )
    session.add(agency)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agency.record_unverified",
        object_type="agency",
        object_id=agency.id,
        details={"code": agency.code, "country": agency.country, "kind": agency.kind, "domains": domains},
        clock=clock,
    )
    return agency


def verify_agency(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    agency_id: int,
    callback_phone: str,
    callback_source: str,
    reason: str,
) -> Agency:
    """A person verifies an agency recorded unverified: the call-back number and its official
    source (never a number from the request), and why they are satisfied it exists. Its held
    requests can then be confirmed by a call-back to that number."""
    authorize(principal, Permission.AGENCIES_MANAGE)
    agency = get_agency(session, agency_id=agency_id)
    if agency.verified:
        raise Conflict(f"{agency.name} is already verified.")
    phone = normalise_phone(callback_phone)
    if phone is None or not callback_source.strip():
        raise InvalidInput(
            "The call-back number must be a full international number, with the official source it was taken from."
        )
    if not reason.strip():
        raise InvalidInput("Say how the agency was verified: the reason goes into the audit log.")
    agency.callback_phone, agency.callback_source = phone, callback_source.strip()[:300]
    agency.verified, agency.verified_by, agency.verified_at = True, str(actor), clock.now()
    audit.record(
        session,
        actor=actor,
        action="agency.verify",
        object_type="agency",
        object_id=agency.id,
        reason=reason.strip(),
        change={"verified": [False, True], "callback_phone": ["", phone]},
        details={"callback_source": agency.callback_source},
        clock=clock,
    )
    return agency


# -- officers ---------------------------------------------------------------------------------


def register_officer(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    agency_code: str,
    name: str,
    rank: str,
    email: str,
    supervisor: str,
    password: str,
    totp_secret: str | None = None,
    verified: bool = False,
    is_demo: bool = False,
) -> Officer:
    """A new officer, pending until staff verify them (unless staff create them verified).
    The e-mail must be in one of the agency's registered domains. For staff and the demo
    data, who may know which officers exist: an address already registered is a Conflict.
    Officers registering themselves go through `self_register`, which says nothing of it."""
    agency, email = _checked(session, agency_code=agency_code, email=email, password=password, name=name, supervisor=supervisor)
    if _officer_by_email(session, email) is not None:
        raise Conflict(f"An officer with e-mail {email} is already registered.")
    return _add_officer(
        session,
        actor=actor,
        clock=clock,
        agency=agency,
        name=name,
        rank=rank,
        email=email,
        supervisor=supervisor,
        password_hash=identity.hash_password(password),
        totp_secret=totp_secret or pyotp.random_base32(),
        verified=verified,
        is_demo=is_demo,
    )


@dataclass(frozen=True)
class Enrolment:
    """What an officer who registered themselves is shown: the address and an authenticator
    key. The same shape whether the address was new (the new account's key) or already
    registered (a key bound to nothing)."""

    email: str
    totp_secret: str


def self_register(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    agency_code: str,
    name: str,
    rank: str,
    email: str,
    supervisor: str,
    password: str,
) -> Enrolment:
    """An officer registers on the portal, pending until staff verify them.

    No account oracle: the form's own errors (unknown agency, malformed address or one outside
    the agency's domains, short password, no name or supervisor) are told as they are, since
    they say nothing about accounts; past them, a new address and an already-registered one
    get the same answer after the same Argon2 hash. A known address changes nothing (no second
    account, the password and key stay), gets a key bound to nothing, and is recorded in the
    audit log (`officer.register.duplicate`) for staff: officers have no mail path to be told
    by. A concurrent registration of the same new address, stopped by the unique index, is
    treated the same way."""
    agency, email = _checked(session, agency_code=agency_code, email=email, password=password, name=name, supervisor=supervisor)
    password_hash, totp_secret = identity.hash_password(password), pyotp.random_base32()
    existing = _officer_by_email(session, email)
    if existing is None:
        try:
            with session.begin_nested():
                officer = _add_officer(
                    session,
                    actor=actor,
                    clock=clock,
                    agency=agency,
                    name=name,
                    rank=rank,
                    email=email,
                    supervisor=supervisor,
                    password_hash=password_hash,
                    totp_secret=totp_secret,
                )
            return Enrolment(officer.email, officer.totp_secret)
        except IntegrityError:
            existing = _officer_by_email(session, email)
            if existing is None:
                raise
    audit.record(
        session,
        actor=actor,
        action="officer.register.duplicate",
        object_type="officer",
        object_id=existing.id,
        reason="self-registration for an e-mail already registered; answered as a new one, the account is unchanged",
        details={"agency": agency.code},
        clock=clock,
    )
    return Enrolment(email, totp_secret)


def _checked(session: Session, *, agency_code: str, email: str, password: str, name: str, supervisor: str) -> tuple[Agency, str]:
    """The agency and the normalised address, once the form's own rules hold."""
    agency = get_agency(session, code=agency_code)
    if not agency.verified:  # recorded from a request, not yet verified: as if not in the registry
        raise NotFound(f"No agency '{agency_code}' in the registry.")
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an e-mail address.")
    if not domain_registered(agency, email):
        raise InvalidInput(f"{email} is not in a domain registered for {agency.name} ({', '.join(agency.email_domains)}).")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    if not name.strip() or not supervisor.strip():
        raise InvalidInput("An officer needs a name and a supervisor (name and telephone) whom we may call.")
    return agency, email


def _officer_by_email(session: Session, email: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.email == email))


def _add_officer(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    agency: Agency,
    name: str,
    rank: str,
    email: str,
    supervisor: str,
    password_hash: str,
    totp_secret: str,
    verified: bool = False,
    is_demo: bool = False,
) -> Officer:
    officer = Officer(
        agency_id=agency.id,
        name=name.strip(),
        rank=rank.strip(),
        email=email,
        supervisor=supervisor.strip(),
        state=str(OfficerState.VERIFIED if verified else OfficerState.PENDING),
        password_hash=password_hash,
        totp_secret=totp_secret,
        totp_last_step=0,
        failed_logins=0,
        created_at=clock.now(),
        is_demo=is_demo,
    )
    session.add(officer)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="officer.register",
        object_type="officer",
        object_id=officer.id,
        details={"agency": agency.code, "state": officer.state},
        clock=clock,
    )
    return officer


def get_officer(session: Session, *, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"No officer with id {officer_id}.")
    return officer


def list_officers(session: Session, *, agency_id: int | None = None) -> list[Officer]:
    query = select(Officer).order_by(Officer.agency_id, Officer.name)
    if agency_id is not None:
        query = query.where(Officer.agency_id == agency_id)
    return list(session.scalars(query))


def set_officer_state(
    session: Session, *, actor: Actor, clock: Clock, officer_id: int, state: OfficerState, reason: str
) -> Officer:
    """Verify or block an officer (blocking ends their portal sessions at once)."""
    officer = get_officer(session, officer_id=officer_id)
    if not reason.strip():
        raise InvalidInput("Say why: the reason goes into the audit log.")
    if officer.state == state:
        raise Conflict(f"{officer.name} is already {state.value}.")
    before, officer.state, officer.state_reason = officer.state, str(state), reason.strip()
    if state is OfficerState.BLOCKED:
        for live in session.scalars(
            select(PortalSession).where(PortalSession.officer_id == officer.id, PortalSession.ended_at.is_(None))
        ):
            live.ended_at = clock.now()
    audit.record(
        session,
        actor=actor,
        action=f"officer.{'block' if state is OfficerState.BLOCKED else 'state'}",
        object_type="officer",
        object_id=officer.id,
        reason=reason,
        change={"state": [before, str(state)]},
        clock=clock,
    )
    return officer


def officer_principal(officer: Officer, csrf_token: str | None = None) -> Principal:
    return Principal(
        kind=PrincipalKind.OFFICER,
        id=officer.id,
        name=officer.email,
        permissions=OFFICER_PERMISSIONS,
        agency_id=officer.agency_id,
        csrf_token=csrf_token,
    )


def totp_uri(officer: Officer | Enrolment, issuer: str = "Trustdesk portal") -> str:
    return pyotp.TOTP(officer.totp_secret).provisioning_uri(name=officer.email, issuer_name=issuer)


# -- portal sign-in ---------------------------------------------------------------------------


def login(
    session: Session,
    *,
    clock: Clock,
    email: str,
    password: str,
    totp_code: str,
    max_failures: int,
    lockout_minutes: int,
    request_id: str | None = None,
) -> tuple[Officer | None, AuthenticationFailed | Forbidden | None]:
    """Like staff sign-in: failures are outcomes (committed with their audit entry), not raises.

    No account-state oracle: a wrong password or code, an unknown e-mail and a locked account
    all get the one generic answer, after one Argon2 verification each; only whoever gives
    the right password and code learns that the account is pending or blocked. The audit
    entry always records the real reason."""
    now, email = clock.now(), email.strip().lower()
    actor = Actor("anonymous", email[:64] or "-", request_id)
    officer = session.scalar(select(Officer).where(Officer.email == email))
    generic = identity.sign_in_failed("e-mail", max_failures=max_failures, lockout_minutes=lockout_minutes)
    if officer is None or (officer.locked_until is not None and officer.locked_until > now):
        identity.spend_dummy_verify(password)
        reason = "unknown officer" if officer is None else f"account locked until {officer.locked_until:%H:%M} UTC"
        audit.record(
            session,
            actor=actor,
            action="portal.login.fail",
            object_type="officer",
            object_id=officer.id if officer else None,
            reason=reason,
            clock=clock,
        )
        return None, generic
    if not (identity.password_matches(officer.password_hash, password) and identity.check_totp(officer, totp_code, now)):
        _count_failure(
            session, officer=officer, actor=actor, clock=clock, max_failures=max_failures, lockout_minutes=lockout_minutes
        )
        return None, generic
    officer.failed_logins, officer.locked_until = 0, None
    refusal = _refusal(officer)
    if refusal is not None:
        audit.record(
            session,
            actor=actor,
            action="portal.login.fail",
            object_type="officer",
            object_id=officer.id,
            reason=f"right password and code, but the account is {officer.state}",
            clock=clock,
        )
        return None, refusal
    officer.last_login_at = now
    audit.record(
        session,
        actor=Actor("officer", officer.email, request_id),
        action="portal.login.ok",
        object_type="officer",
        object_id=officer.id,
        clock=clock,
    )
    return officer, None


def _refusal(officer: Officer) -> Forbidden | None:
    """Why an officer who proved who they are still may not sign in."""
    if officer.state == OfficerState.BLOCKED:
        return Forbidden("This officer account is blocked. Contact the platform's law-enforcement response team by telephone.")
    if officer.state == OfficerState.PENDING:
        return Forbidden("This officer account is awaiting verification by the platform; you will be told when it is active.")
    return None


def _count_failure(
    session: Session, *, officer: Officer, actor: Actor, clock: Clock, max_failures: int, lockout_minutes: int
) -> None:
    officer.failed_logins += 1
    locked = officer.failed_logins >= max_failures
    if locked:
        officer.locked_until, officer.failed_logins = clock.now() + timedelta(minutes=lockout_minutes), 0
    audit.record(
        session,
        actor=actor,
        action="portal.login.fail",
        object_type="officer",
        object_id=officer.id,
        reason="wrong password or one-time code" + (f"; locked for {lockout_minutes} minutes" if locked else ""),
        clock=clock,
    )


def open_portal_session(session: Session, *, clock: Clock, officer: Officer, hours: float) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            secret_hash=_sha256(secret),
            officer_id=officer.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=hours),
        )
    )
    session.flush()
    return secret


def resolve_portal_session(session: Session, *, clock: Clock, secret: str) -> Principal | None:
    live = session.scalar(select(PortalSession).where(PortalSession.secret_hash == _sha256(secret)))
    if live is None or live.ended_at is not None or live.expires_at <= clock.now():
        return None
    officer = session.get(Officer, live.officer_id)
    if officer is None or officer.state != OfficerState.VERIFIED:
        return None
    return officer_principal(officer, csrf_token=live.csrf_token)


def end_portal_session(session: Session, *, clock: Clock, secret: str) -> None:
    live = session.scalar(select(PortalSession).where(PortalSession.secret_hash == _sha256(secret)))
    if live is not None and live.ended_at is None:
        live.ended_at = clock.now()
