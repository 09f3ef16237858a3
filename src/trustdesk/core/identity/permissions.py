"""Authorization, in one place. Handlers never test roles themselves: they name the permission
they need (`require(Permission.AUDIT_READ)` on the web side, `authorize()` in services), and
this module alone says which roles hold it. Object scoping (an officer sees only their
agency's requests, a reviewer only their queues) is expressed by `scope_*` functions here too,
and so is every rule about the kind of principal (only named staff prepare a disclosure): no
other module compares `Principal.kind` (tests/core/identity/test_one_rule.py holds this)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from trustdesk.core.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    LEGAL_OFFICER = "legal_officer"
    REVIEWER = "reviewer"
    TRIAGE = "triage"
    AUDITOR = "auditor"
    ON_CALL = "on_call"
    SENIOR_REVIEWER = "senior_reviewer"  # gives the final label where a blind re-review disagrees


class Permission(StrEnum):
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    REQUESTS_READ = "requests:read"
    REQUESTS_HANDLE = "requests:handle"
    DISCLOSURE_APPROVE = "disclosure:approve"
    AGENCIES_MANAGE = "agencies:manage"
    SAFETY_READ = "safety:read"
    BANKS_MANAGE = "banks:manage"
    RULES_MANAGE = "rules:manage"
    REVIEW_DECIDE = "review:decide"
    TRIAGE = "review:triage"
    EMERGENCY_HANDLE = "emergency:handle"
    TRANSPARENCY_PUBLISH = "transparency:publish"
    PLATFORM_READ = "platform:read"
    EVENTS_INGEST = "events:ingest"
    MATCH_LOOKUP = "match:lookup"
    PORTAL_SUBMIT = "portal:submit"
    REVIEW_MANAGE = "review:manage"  # queues, queue members, trusted flaggers
    NOTICES_SUBMIT = "notices:submit"  # a trusted flagger's service token
    CYBERTIPLINE_FILE = "cybertipline:file"
    PRIVACY_READ = "privacy:read"  # the data map and the record of processing (GDPR Art. 30)
    PRIVACY_MANAGE = "privacy:manage"  # rights requests (access, erasure, restriction), retention runs
    JOBS_READ = "jobs:read"  # the scheduled jobs' record (core/jobs)
    QUALITY_READ = "quality:read"  # agreement, precision and overturn figures (no names)
    QUALITY_REVIEW = "quality:review"  # blind re-review of a sampled decision
    QUALITY_ADJUDICATE = "quality:adjudicate"  # the senior's final label on a disagreement
    QUALITY_MANAGE = "quality:manage"  # sampling rules, drawing samples


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.USERS_MANAGE,
            Permission.TOKENS_MANAGE,
            Permission.AUDIT_READ,
            Permission.AGENCIES_MANAGE,
            Permission.BANKS_MANAGE,
            Permission.MATCH_LOOKUP,
            Permission.RULES_MANAGE,
            Permission.SAFETY_READ,
            Permission.PLATFORM_READ,
            Permission.TRANSPARENCY_PUBLISH,
            Permission.REVIEW_MANAGE,
            Permission.NOTICES_SUBMIT,
            Permission.PRIVACY_READ,
            Permission.JOBS_READ,
            Permission.QUALITY_READ,
            Permission.QUALITY_MANAGE,
        }
    ),
    Role.LEGAL_OFFICER: frozenset(
        {
            Permission.CYBERTIPLINE_FILE,
            Permission.REQUESTS_READ,
            Permission.REQUESTS_HANDLE,
            Permission.DISCLOSURE_APPROVE,
            Permission.AGENCIES_MANAGE,
            Permission.EMERGENCY_HANDLE,
            Permission.PLATFORM_READ,
            Permission.SAFETY_READ,
            Permission.TRANSPARENCY_PUBLISH,
            Permission.PRIVACY_READ,
            Permission.PRIVACY_MANAGE,
            Permission.QUALITY_READ,
        }
    ),
    Role.REVIEWER: frozenset(
        {
            Permission.SAFETY_READ,
            Permission.REVIEW_DECIDE,
            Permission.TRIAGE,
            Permission.PLATFORM_READ,
            Permission.MATCH_LOOKUP,
            Permission.QUALITY_READ,
            Permission.QUALITY_REVIEW,
        }
    ),
    Role.SENIOR_REVIEWER: frozenset(
        {
            Permission.SAFETY_READ,
            Permission.REVIEW_DECIDE,
            Permission.TRIAGE,
            Permission.PLATFORM_READ,
            Permission.QUALITY_READ,
            Permission.QUALITY_REVIEW,
            Permission.QUALITY_ADJUDICATE,
        }
    ),
    Role.TRIAGE: frozenset({Permission.SAFETY_READ, Permission.TRIAGE}),
    Role.AUDITOR: frozenset(
        {
            Permission.AUDIT_READ,
            Permission.REQUESTS_READ,
            Permission.SAFETY_READ,
            Permission.PRIVACY_READ,
            Permission.JOBS_READ,
            Permission.QUALITY_READ,
        }
    ),
    Role.ON_CALL: frozenset(
        {
            Permission.EMERGENCY_HANDLE,
            Permission.REQUESTS_READ,
            Permission.SAFETY_READ,
            Permission.PLATFORM_READ,
            Permission.JOBS_READ,
        }
    ),
}

# Every staff role can see personal data somewhere (reports, requests, the audit log), so
# every staff account needs a second factor. Kept as data so that a narrower role can opt out.
SECOND_FACTOR_REQUIRED: frozenset[Role] = frozenset(Role)

# Scopes a service token may carry; a token never gets more than its creator holds.
TOKEN_SCOPES: frozenset[Permission] = frozenset(Permission)


class PrincipalKind(StrEnum):
    """Who a principal is; `Actor`s in the audit log carry the same words (`staff:alice`)."""

    STAFF = "staff"  # a named staff member signed in to the console
    TOKEN = "token"  # a service token (an integration, a trusted flagger, an agency's system)
    OFFICER = "officer"  # an officer of an authority signed in to the portal
    CLI = "cli"  # the operator at the server's own shell
    SYSTEM = "system"  # Trustdesk acting for itself (the emergency lane)
    ANONYMOUS = "anonymous"  # nobody signed in yet (a failed portal sign-in, for the record)


def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request or command."""

    kind: PrincipalKind
    id: int
    name: str
    permissions: frozenset[Permission]
    roles: frozenset[Role] = field(default_factory=frozenset)
    agency_id: int | None = None
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor_name(self) -> str:
        return f"{self.kind}:{self.name}"


def authorize(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"{principal.name} lacks the permission '{permission}'.",
            permission=str(permission),
        )


# -- who looked: the access log ---------------------------------------------------------------


def authorize_access_log_read(principal: Principal) -> None:
    """The access log (who looked at whose data, core/access) is read by those who audit:
    AUDIT_READ. Looking at it is not looking at the person's data, so it needs no purpose."""
    authorize(principal, Permission.AUDIT_READ)


# -- service tokens: no scope beyond the grantor's own --------------------------------------


def authorize_grant(principal: Principal, scopes: Iterable[Permission]) -> None:
    """A token carries only scopes its creator holds: otherwise an administrator could mint
    a token that reads lawful requests or approves disclosures, which no admin may do.
    Checked against the creator's permissions when the token is made; the refusal names
    every scope that is not held, so the creator can fix the request in one go. (Who may
    make tokens at all is TOKENS_MANAGE, which `create_token` asks for as well.)"""
    missing = sorted(str(s) for s in frozenset(scopes) - principal.permissions)
    if missing:
        raise Forbidden(
            f"{principal.name} cannot grant scopes they do not hold: {', '.join(missing)}.",
            permission=missing[0],
            scopes=missing,
        )


# -- service tokens: no scope beyond what the creator holds now -----------------------------
#
# A token records whom it answers to in `ApiToken.created_by`, and is checked against them each
# time it is used (`service.authenticate_token`): `staff:<username>` for a member of staff (the
# token holds its scopes only while that account is active, and only those scopes its roles
# still give), `cli:<user>` for the operator at the server's shell (see `operator_principal`:
# the scopes stand as granted). A token made by a token records the mark of its maker, so that
# every chain ends at a member of staff or the operator. The mark is the grantor's kind, set
# here and never taken from a caller's words; a username cannot hold ':', so the mark parses
# one way only. Any other mark is refused.

TOKEN_CREATOR_STAFF = PrincipalKind.STAFF
TOKEN_CREATOR_OPERATOR = PrincipalKind.CLI


def token_id_of(principal: Principal) -> int | None:
    """The service token `principal` is, if it is one: a token that makes a token passes on
    the creator it answers to (`token_creator_mark`)."""
    return principal.id if principal.kind == PrincipalKind.TOKEN else None


def token_creator_mark(grantor: Principal, *, maker_mark: str | None = None) -> str:
    """What a new token records as the one it answers to: the grantor itself when it is staff
    or the operator, or `maker_mark` (the grantor token's own `created_by`) when it is a token."""
    if grantor.kind in (TOKEN_CREATOR_STAFF, TOKEN_CREATOR_OPERATOR):
        return grantor.actor_name
    if grantor.kind == PrincipalKind.TOKEN and maker_mark is not None:
        return maker_mark
    raise Forbidden(f"{grantor.name} cannot make service tokens.", permission=str(Permission.TOKENS_MANAGE))


def token_staff_creator(created_by: str) -> str | None:
    """The username of the member of staff a token answers to, or None when it answers to the
    operator at the shell. ValueError for any other mark (a token made by a token before
    tokens passed on their maker's mark, say): such a token is refused."""
    kind, _, name = created_by.partition(":")
    if kind == TOKEN_CREATOR_STAFF and name:
        return name
    if kind == TOKEN_CREATOR_OPERATOR and name:
        return None
    raise ValueError(f"the creator mark '{created_by}' is not staff:<username> or cli:<user>")


def token_permissions(scopes: Iterable[Permission], *, creator_roles: frozenset[Role] | None) -> frozenset[Permission]:
    """What a token may do now: its scopes, narrowed to what its staff creator's roles give
    today (`creator_roles`), or as granted when the operator made it (None). A role taken away
    takes its scopes from the creator's tokens, and a role given back returns them: nothing is
    stored, so nothing goes stale."""
    granted = frozenset(scopes)
    return granted if creator_roles is None else granted & permissions_for(creator_roles)


def operator_principal(name: str) -> Principal:
    """The operator at the server's own shell (`trustdesk tokens create`, `trustdesk requests
    agency-token`): whoever runs the CLI there already holds the database credentials and
    the signing key, so a check against them would stop no one. They may grant any scope;
    each grant is audited under their operating-system name (`cli:<user>`)."""
    return Principal(kind=PrincipalKind.CLI, id=0, name=name, permissions=TOKEN_SCOPES)


# -- lawful requests: agency scoping ---------------------------------------------------------

# What a signed-in officer of a registered agency holds: filing and following its own requests.
OFFICER_PERMISSIONS: frozenset[Permission] = frozenset({Permission.PORTAL_SUBMIT})


def scope_requests_to_agency(principal: Principal) -> int | None:
    """The agency whose requests `principal` may see, or None for staff who may see all.

    An officer, or a service token issued to an agency, sees only that agency's requests;
    the services that list or load requests filter by this, so another agency's request is
    simply not found (404), never 'forbidden' (which would confirm that it exists)."""
    if principal.agency_id is not None:
        return principal.agency_id
    if principal.kind == PrincipalKind.OFFICER:
        raise Forbidden("This officer account is not attached to an agency.")
    authorize(principal, Permission.REQUESTS_READ)
    return None


def acts_for_authority(principal: Principal) -> bool:
    """Whether `principal` speaks for an authority (one of its officers, or a token issued to
    it) rather than for the platform: their messages are the authority's, and the workflow
    lets them make only the authority's moves (withdraw, answer a clarification)."""
    return principal.agency_id is not None


def authorize_request_handling(principal: Principal) -> None:
    """Moving a request, writing on it, supplying elements: an authority does it through the
    portal (PORTAL_SUBMIT, scoped to its own requests), the platform's staff with
    REQUESTS_HANDLE."""
    authorize(principal, Permission.PORTAL_SUBMIT if acts_for_authority(principal) else Permission.REQUESTS_HANDLE)


def officer_id_of(principal: Principal | None) -> int | None:
    """The portal account behind `principal` when it is a signed-in officer; None for an
    agency's token, staff and everyone else (an agency's token files with no officer)."""
    if principal is None or principal.kind != PrincipalKind.OFFICER:
        return None
    return principal.id


# -- review: queue scoping --------------------------------------------------------------------


def scope_review_queues(principal: Principal, *, member_of: frozenset[str]) -> frozenset[str] | None:
    """The review queues whose cases and appeals `principal` may see: the queues they are a
    member of (membership is the review domain's data, which its service loads and passes
    in), or None (all) for those who manage review. A case outside them is not found (404),
    never 'forbidden', so that its existence is not confirmed."""
    if principal.can(Permission.REVIEW_MANAGE):
        return None
    authorize(principal, Permission.TRIAGE)
    return member_of


# -- review quality: blind re-review by someone else, a senior for disagreements ----------


def authorize_blind_review(principal: Principal, *, first_decider: str) -> None:
    """A sampled decision is re-reviewed blind by a named person who did not take it: a
    reviewer who re-reviews their own decision measures nothing. `first_decider` is the
    decision's recorded actor (`staff:alice`, or a rule or model for an automated one)."""
    authorize(principal, Permission.QUALITY_REVIEW)
    if principal.kind != PrincipalKind.STAFF:
        raise Forbidden("Quality re-reviews are given by named staff, not by tokens.")
    if principal.actor_name == first_decider:
        raise Forbidden("You took this decision; someone else must re-review it.")


def authorize_final_label(principal: Principal, *, first_decider: str, blind_reviewer: str) -> None:
    """Where the blind re-review disagrees with the decision, a senior reviewer who is
    neither of the two gives the final label."""
    authorize(principal, Permission.QUALITY_ADJUDICATE)
    if principal.kind != PrincipalKind.STAFF:
        raise Forbidden("Final labels are given by named staff, not by tokens.")
    if principal.actor_name in (first_decider, blind_reviewer):
        raise Forbidden("You took this decision or re-reviewed it; another senior reviewer must give the final label.")


# -- lawful requests: four eyes on disclosures, packages for the requesting officer ----------


def authorize_disclosure_preparation(principal: Principal) -> None:
    """A disclosure is prepared by a named member of staff who handles requests: never by a
    token, the CLI or the system, so that a person answers for every disclosure."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    if principal.kind != PrincipalKind.STAFF:
        raise Forbidden("Disclosures are prepared and approved by named staff, not by tokens.")


def authorize_disclosure_approval(principal: Principal, *, preparer_id: int, earlier_approver_ids: frozenset[int]) -> None:
    """Four eyes: an approver is a staff member with the legal-officer role who holds
    DISCLOSURE_APPROVE and is neither the preparer nor someone who already approved."""
    authorize(principal, Permission.DISCLOSURE_APPROVE)
    if principal.kind != PrincipalKind.STAFF or Role.LEGAL_OFFICER not in principal.roles:
        raise Forbidden("Only a staff member with the legal-officer role may approve a disclosure.")
    if principal.id == preparer_id:
        raise Forbidden("The preparer of a disclosure cannot approve it: a second legal officer must.")
    if principal.id in earlier_approver_ids:
        raise Forbidden("You have already approved this disclosure; another legal officer must give the next approval.")


def authorize_package_download(principal: Principal | None, *, officer_id: int | None, agency_id: int | None = None) -> None:
    """A disclosure package goes to the officer who filed the request, and to no one else:
    not a colleague at the same agency, not staff. A request an agency's system filed with
    its service token (no officer) is answered to that agency's system: a token of the same
    agency with PORTAL_SUBMIT, not an officer and not staff."""
    if officer_id is not None:
        if principal is None or principal.kind != PrincipalKind.OFFICER or principal.id != officer_id:
            raise Forbidden("This package is delivered to the requesting officer alone.")
        return
    if (
        principal is None
        or principal.kind != PrincipalKind.TOKEN
        or agency_id is None
        or principal.agency_id != agency_id
        or not principal.can(Permission.PORTAL_SUBMIT)
    ):
        raise Forbidden("This package is delivered to the requesting agency's system alone, through the API.")


def scope_deliveries_to_agency(principal: Principal) -> int:
    """The agency whose packages `principal` may list and fetch through the API: an agency's
    service token only (officers fetch theirs through the portal link; staff never do)."""
    if principal.kind != PrincipalKind.TOKEN or principal.agency_id is None:
        raise Forbidden("Packages are fetched through the API by the requesting agency's service token.")
    authorize(principal, Permission.PORTAL_SUBMIT)
    return principal.agency_id


# -- notices: a trusted flagger is a service token -------------------------------------------


def flagger_token_id(principal: Principal | None) -> int | None:
    """The service token whose trusted flagger, if any, sent a notice: only a token can
    belong to a trusted flagger (Art. 22 DSA), never a person signed in or the public."""
    if principal is None or principal.kind != PrincipalKind.TOKEN:
        return None
    return principal.id
