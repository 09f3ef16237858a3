"""Every rule of the permissions module, for every kind of principal and every role: the
module is the one place that says who may do what (decision 0004), so the whole matrix is
checked here rather than through the services that ask it."""

from __future__ import annotations

import pytest

from trustdesk.core.errors import Forbidden
from trustdesk.core.identity.permissions import (
    OFFICER_PERMISSIONS,
    TOKEN_SCOPES,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    acts_for_authority,
    authorize,
    authorize_disclosure_approval,
    authorize_disclosure_preparation,
    authorize_package_download,
    authorize_request_handling,
    flagger_token_id,
    officer_id_of,
    operator_principal,
    permissions_for,
    scope_requests_to_agency,
    scope_review_queues,
)

KINDS = list(PrincipalKind)
ROLES: list[Role | None] = [None, *Role]
AGENCY = 5
QUEUES = frozenset({"abuse"})


def make(kind: PrincipalKind, role: Role | None, *, agency_id: int | None = None, id_: int = 7) -> Principal:
    """A principal of `kind` holding `role`'s permissions (as a token's scopes, for a token)."""
    roles = frozenset({role}) if role is not None else frozenset()
    permissions = permissions_for(roles)
    if kind is PrincipalKind.OFFICER:
        permissions |= OFFICER_PERMISSIONS
    return Principal(
        kind=kind,
        id=id_,
        name="someone",
        permissions=permissions,
        roles=roles if kind is PrincipalKind.STAFF else frozenset(),
        agency_id=agency_id,
    )


def refused(call, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    try:
        call(*args, **kwargs)
    except Forbidden:
        return True
    return False


matrix = pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
kinds = pytest.mark.parametrize("kind", KINDS, ids=str)


def test_the_kinds_are_the_ones_the_code_makes() -> None:
    assert {str(k) for k in PrincipalKind} == {"staff", "token", "officer", "cli", "system", "anonymous"}
    assert operator_principal("root").kind is PrincipalKind.CLI
    assert operator_principal("root").actor_name == "cli:root"


def test_a_refusal_is_a_403_naming_the_permission() -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(make(PrincipalKind.STAFF, Role.TRIAGE), Permission.AUDIT_READ)
    assert caught.value.status == 403
    assert (caught.value.type_slug, caught.value.extensions["permission"]) == ("forbidden", "audit:read")


@kinds
@matrix
def test_only_named_staff_who_handle_requests_prepare_a_disclosure(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role)
    allowed = kind is PrincipalKind.STAFF and principal.can(Permission.REQUESTS_HANDLE)
    assert refused(authorize_disclosure_preparation, principal) is not allowed


@pytest.mark.parametrize("kind", [k for k in KINDS if k is not PrincipalKind.STAFF], ids=str)
def test_a_token_or_the_cli_cannot_prepare_a_disclosure_even_with_every_scope(kind: PrincipalKind) -> None:
    principal = Principal(kind=kind, id=1, name="x", permissions=TOKEN_SCOPES)
    with pytest.raises(Forbidden, match="named staff"):
        authorize_disclosure_preparation(principal)


@kinds
@matrix
@pytest.mark.parametrize("agency_id", [None, AGENCY])
def test_an_authority_handles_its_requests_through_the_portal_and_staff_with_requests_handle(
    kind: PrincipalKind, role: Role | None, agency_id: int | None
) -> None:
    principal = make(kind, role, agency_id=agency_id)
    assert acts_for_authority(principal) is (agency_id is not None)
    needed = Permission.PORTAL_SUBMIT if agency_id is not None else Permission.REQUESTS_HANDLE
    assert refused(authorize_request_handling, principal) is not principal.can(needed)


def test_an_agency_token_with_requests_handle_still_needs_portal_submit() -> None:
    token = Principal(
        kind=PrincipalKind.TOKEN, id=3, name="t", permissions=frozenset({Permission.REQUESTS_HANDLE}), agency_id=AGENCY
    )
    with pytest.raises(Forbidden, match="portal:submit"):
        authorize_request_handling(token)


@kinds
@matrix
def test_only_an_officer_has_an_officer_account(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role, agency_id=AGENCY, id_=42)
    assert officer_id_of(principal) == (42 if kind is PrincipalKind.OFFICER else None)
    assert officer_id_of(None) is None


@kinds
@matrix
def test_only_a_token_can_belong_to_a_trusted_flagger(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role, id_=77)
    assert flagger_token_id(principal) == (77 if kind is PrincipalKind.TOKEN else None)
    assert flagger_token_id(None) is None


@kinds
@matrix
def test_only_the_requesting_officer_downloads_the_package(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role, agency_id=AGENCY, id_=42)
    assert refused(authorize_package_download, principal, officer_id=42) is (kind is not PrincipalKind.OFFICER)
    assert refused(authorize_package_download, principal, officer_id=43)
    assert refused(authorize_package_download, None, officer_id=42)


@kinds
@matrix
def test_four_eyes_an_approver_is_another_staff_legal_officer(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role, id_=2)
    allowed = kind is PrincipalKind.STAFF and role is Role.LEGAL_OFFICER
    assert refused(authorize_disclosure_approval, principal, preparer_id=1, earlier_approver_ids=frozenset()) is not allowed
    assert refused(authorize_disclosure_approval, principal, preparer_id=2, earlier_approver_ids=frozenset())
    assert refused(authorize_disclosure_approval, principal, preparer_id=1, earlier_approver_ids=frozenset({2}))


@kinds
@matrix
def test_requests_are_scoped_to_the_callers_agency(kind: PrincipalKind, role: Role | None) -> None:
    assert scope_requests_to_agency(make(kind, role, agency_id=AGENCY)) == AGENCY
    unattached = make(kind, role)
    if kind is PrincipalKind.OFFICER:
        with pytest.raises(Forbidden, match="not attached to an agency"):
            scope_requests_to_agency(unattached)
    elif unattached.can(Permission.REQUESTS_READ):
        assert scope_requests_to_agency(unattached) is None
    else:
        with pytest.raises(Forbidden, match="requests:read"):
            scope_requests_to_agency(unattached)


@kinds
@matrix
def test_review_queues_are_the_members_unless_they_manage_review(kind: PrincipalKind, role: Role | None) -> None:
    principal = make(kind, role)
    if principal.can(Permission.REVIEW_MANAGE):
        assert scope_review_queues(principal, member_of=QUEUES) is None
    elif principal.can(Permission.TRIAGE):
        assert scope_review_queues(principal, member_of=QUEUES) == QUEUES
    else:
        assert refused(scope_review_queues, principal, member_of=QUEUES)
