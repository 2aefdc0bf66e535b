"""Repositories: constraints, case folding, tenancy, role rules and refresh-token rotation."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, ConflictError, NotFoundError, PermissionDeniedError
from accunode_cli.storage import companies, organizations, tokens, users
from accunode_cli.storage.models import Membership, User


def make_user(session: Session, **overrides: str) -> User:
    values = {
        "email": f"{uuid.uuid4().hex[:8]}@example.com",
        "password_hash": "x",
        "full_name": "A",
    }
    values.update(overrides)
    return users.create_user(session, **values)


def test_emails_are_case_insensitive_and_unique(session: Session) -> None:
    user = make_user(session, email="  Ann.Lee@Example.COM ")
    assert user.email == "Ann.Lee@Example.COM"  # kept as given; compared on its folded key
    assert user.email_key == "ann.lee@example.com"
    with pytest.raises(ConflictError):
        make_user(session, email="ANN.LEE@example.com")
    assert users.find_user_by_email(session, "ann.LEE@EXAMPLE.com").id == user.id
    session.commit()  # the failed insert did not poison the transaction


def test_registration_creates_an_owned_personal_organization(session: Session) -> None:
    user = make_user(session)
    personal = organizations.get_personal_organization(session, user_id=user.id)
    membership = organizations.get_membership(session, organization_id=personal.id, user_id=user.id)
    assert membership is not None and membership.role == "owner"
    assert [
        role for _, role in organizations.list_user_organizations(session, user_id=user.id)
    ] == ["owner"]


def test_company_symbols_are_unique_per_organization_only(session: Session) -> None:
    a, b = make_user(session), make_user(session)
    org_a = organizations.get_personal_organization(session, user_id=a.id).id
    org_b = organizations.get_personal_organization(session, user_id=b.id).id
    first = companies.create_company(session, organization_id=org_a, symbol="acme", name="Acme")
    assert first.symbol == "ACME"
    with pytest.raises(ConflictError):
        companies.create_company(session, organization_id=org_a, symbol=" ACME", name="Again")
    companies.create_company(session, organization_id=org_b, symbol="ACME", name="Acme B")
    with pytest.raises(NotFoundError):
        companies.get_company(session, organization_id=org_b, company_id=first.id)
    page = companies.list_companies(session, organization_id=org_a, search="acm")
    assert page.total == 1 and page.items[0].id == first.id
    [again] = companies.resolve_companies(
        session, [companies.CompanyRef(organization_id=org_a, symbol="Acme")]
    )
    assert isinstance(again, companies.CompanyIdentity) and again.id == first.id
    session.commit()


def test_role_rules(session: Session) -> None:
    owner, admin, viewer = make_user(session), make_user(session), make_user(session)
    org = organizations.create_organization(session, name="Shared", owner_id=owner.id)
    session.add_all(
        [
            Membership(organization_id=org.id, user_id=admin.id, role="admin"),
            Membership(organization_id=org.id, user_id=viewer.id, role="viewer"),
        ]
    )
    session.flush()

    def member(user: User) -> Membership:
        found = organizations.get_membership(session, organization_id=org.id, user_id=user.id)
        assert found is not None
        return found

    with pytest.raises(PermissionDeniedError):  # a viewer manages nobody
        organizations.change_member_role(
            session, organization_id=org.id, actor=member(viewer), user_id=admin.id, role="viewer"
        )
    with pytest.raises(PermissionDeniedError):  # an admin cannot make an owner
        organizations.change_member_role(
            session, organization_id=org.id, actor=member(admin), user_id=viewer.id, role="owner"
        )
    with pytest.raises(PermissionDeniedError):  # nor touch an owner
        organizations.remove_member(
            session, organization_id=org.id, actor=member(admin), user_id=owner.id
        )
    with pytest.raises(ConflictError):  # the last owner cannot be demoted
        organizations.change_member_role(
            session, organization_id=org.id, actor=member(owner), user_id=owner.id, role="admin"
        )
    with pytest.raises(ConflictError):  # nor leave
        organizations.remove_member(
            session, organization_id=org.id, actor=member(owner), user_id=owner.id
        )
    organizations.change_member_role(
        session, organization_id=org.id, actor=member(admin), user_id=viewer.id, role="analyst"
    )
    assert member(viewer).role == "analyst"
    organizations.remove_member(
        session, organization_id=org.id, actor=member(viewer), user_id=viewer.id
    )
    assert organizations.get_membership(session, organization_id=org.id, user_id=viewer.id) is None


def test_invitation_is_single_use_and_bound_to_its_email(session: Session) -> None:
    owner, invitee, stranger = make_user(session), make_user(session), make_user(session)
    org = organizations.create_organization(session, name="Shared", owner_id=owner.id)
    actor = organizations.get_membership(session, organization_id=org.id, user_id=owner.id)
    assert actor is not None
    _, token = organizations.create_invitation(
        session, organization_id=org.id, actor=actor, email=invitee.email.upper(), role="analyst"
    )
    with pytest.raises(PermissionDeniedError):
        organizations.accept_invitation(session, token=token, user=stranger)
    membership = organizations.accept_invitation(session, token=token, user=invitee)
    assert membership.role == "analyst"
    with pytest.raises(AuthError):
        organizations.accept_invitation(session, token=token, user=invitee)


def test_refresh_rotation_and_reuse_detection(session: Session) -> None:
    user = make_user(session)
    first = tokens.issue_refresh_token(session, user_id=user.id, days=30)
    second, reused = tokens.rotate_refresh_token(session, token=first.token, days=30)
    assert second is not None and reused is None and second.family_id == first.family_id
    again, family = tokens.rotate_refresh_token(session, token=first.token, days=30)
    assert again is None and family == first.family_id
    # the reuse killed the whole family: the newest token is dead too
    assert tokens.rotate_refresh_token(session, token=second.token, days=30) == (None, family)
    with pytest.raises(AuthError):
        tokens.rotate_refresh_token(session, token="not-a-token", days=30)
