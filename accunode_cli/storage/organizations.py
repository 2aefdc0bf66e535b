"""Organizations, memberships and invitations, with the role rules in one place.

Only owners and admins manage members; nobody grants a role above their own or changes a member
who ranks above them; the last owner can neither leave nor be demoted.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, ConflictError, NotFoundError, PermissionDeniedError
from accunode_cli.storage.common import insert_or_conflict, lock_row
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.models import ROLES, Invitation, Membership, Organization, User
from accunode_cli.storage.users import normalise_email

__all__ = [
    "role_rank",
    "create_organization",
    "get_membership",
    "get_personal_organization",
    "get_personal_membership",
    "Access",
    "get_access",
    "get_organization",
    "list_user_organizations",
    "list_members",
    "change_member_role",
    "remove_member",
    "create_invitation",
    "accept_invitation",
    "list_invitations",
    "revoke_invitation",
]

INVITATION_DAYS = 7


def role_rank(role: str) -> int:
    """Return the power of a role: viewer 0 < analyst 1 < admin 2 < owner 3."""
    return ROLES.index(role)


def create_organization(session: Session, *, name: str, owner_id: uuid.UUID) -> Organization:
    """Create a shared organization owned by ``owner_id``."""
    organization = Organization(name=name, created_by=owner_id)
    session.add(organization)
    session.flush()
    session.add(Membership(organization_id=organization.id, user_id=owner_id, role="owner"))
    session.flush()
    return organization


def get_membership(
    session: Session, *, organization_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    """Return the user's membership in the organization, or None."""
    return session.scalar(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )


def get_personal_organization(session: Session, *, user_id: uuid.UUID) -> Organization:
    """Return the personal organization created at registration."""
    organization = session.scalar(
        select(Organization).where(Organization.personal_for_user_id == user_id)
    )
    if organization is None:
        raise NotFoundError("personal organization not found")
    return organization


def get_personal_membership(session: Session, *, user_id: uuid.UUID) -> Membership | None:
    """Return the user's membership in their personal organization (one query)."""
    return session.scalar(
        select(Membership)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Organization.personal_for_user_id == user_id, Membership.user_id == user_id)
    )


@dataclass(frozen=True)
class Access:
    """A user's standing in one organization, read without loading ORM objects.

    ``organization_id`` and ``role`` are None when the user is not a member there.
    """

    is_active: bool
    tokens_valid_after: datetime | None
    organization_id: uuid.UUID | None
    role: str | None


def get_access(
    session: Session, keys: Sequence[tuple[uuid.UUID, uuid.UUID | None]]
) -> list[Access | None]:
    """Return, for each (user id, organization id) pair, the user's access; None: no such user.

    An organization id of None means the user's personal organization. Each distinct pair
    costs one query, however often it is asked for (concurrent requests of one user share it).
    """
    found: dict[tuple[uuid.UUID, uuid.UUID | None], Access | None] = {}
    for user_id, organization_id in keys:
        if (user_id, organization_id) in found:
            continue
        if organization_id is None:
            target = (
                select(Organization.id)
                .where(Organization.personal_for_user_id == User.id)
                .scalar_subquery()
            )
        else:
            target = organization_id  # type: ignore[assignment]
        row = session.execute(
            select(
                User.is_active, User.tokens_valid_after, Membership.organization_id, Membership.role
            )
            .outerjoin(
                Membership,
                and_(Membership.user_id == User.id, Membership.organization_id == target),
            )
            .where(User.id == user_id)
        ).first()
        found[(user_id, organization_id)] = None if row is None else Access(*row)
    return [found[key] for key in keys]


def get_organization(session: Session, *, organization_id: uuid.UUID) -> Organization:
    """Return an organization by id (the caller has checked the membership)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFoundError("organization not found")
    return organization


def list_user_organizations(
    session: Session, *, user_id: uuid.UUID
) -> list[tuple[Organization, str]]:
    """Return every organization of the user with the user's role in it."""
    rows = session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.created_at, Organization.id)
    ).all()
    return [(organization, role) for organization, role in rows]


def list_members(session: Session, *, organization_id: uuid.UUID) -> list[tuple[User, str]]:
    """Return the organization's members with their roles."""
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.email)
    ).all()
    return [(user, role) for user, role in rows]


def _require_manager(actor: Membership) -> None:
    if role_rank(actor.role) < role_rank("admin"):
        raise PermissionDeniedError("only owners and admins manage members")


def _owner_count(session: Session, organization_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Membership.organization_id == organization_id, Membership.role == "owner"
            )
        )
        or 0
    )


def _locked_actor(session: Session, organization_id: uuid.UUID, actor: Membership) -> Membership:
    """Lock the organization's memberships and return the actor's role as it is now.

    Every change of a member's role or membership takes the organization's row lock first,
    so two owners demoting each other (or both leaving) run one after the other and the
    second sees the first's result: exactly one of them meets the last-owner rule.
    """
    if not lock_row(session, Organization, organization_id):
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    session.expire(actor)
    current = get_membership(session, organization_id=organization_id, user_id=actor.user_id)
    if current is None:
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    return current


def _target(session: Session, *, organization_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    member = get_membership(session, organization_id=organization_id, user_id=user_id)
    if member is None:
        raise NotFoundError("member not found", details={"user_id": str(user_id)})
    return member


def change_member_role(
    session: Session,
    *,
    organization_id: uuid.UUID,
    actor: Membership,
    user_id: uuid.UUID,
    role: str,
) -> Membership:
    """Give a member a new role under the role rules."""
    asked_as = actor.role
    actor = _locked_actor(session, organization_id, actor)
    _require_manager(actor)
    member = _target(session, organization_id=organization_id, user_id=user_id)
    last_owner = (
        member.role == "owner" and role != "owner" and _owner_count(session, organization_id) <= 1
    )
    # Of two owners demoting each other, the second learns of the conflict (409), not that
    # the first's demotion has just taken its rights (403).
    if last_owner and asked_as == "owner":
        raise ConflictError("the last owner cannot be demoted")
    if role_rank(role) > role_rank(actor.role) or role_rank(member.role) > role_rank(actor.role):
        raise PermissionDeniedError("nobody can grant or change a role above their own")
    if last_owner:
        raise ConflictError("the last owner cannot be demoted")
    member.role = role
    session.flush()
    return member


def remove_member(
    session: Session, *, organization_id: uuid.UUID, actor: Membership, user_id: uuid.UUID
) -> None:
    """Remove a member (or let a member leave) under the role rules."""
    actor = _locked_actor(session, organization_id, actor)
    member = _target(session, organization_id=organization_id, user_id=user_id)
    if member.user_id != actor.user_id:
        _require_manager(actor)
        if role_rank(member.role) > role_rank(actor.role):
            raise PermissionDeniedError("nobody can remove a member who ranks above them")
    if member.role == "owner" and _owner_count(session, organization_id) <= 1:
        raise ConflictError("the last owner cannot leave the organization")
    organization = session.get(Organization, organization_id)
    if organization is not None and organization.personal_for_user_id == member.user_id:
        raise ConflictError("nobody can leave their personal organization")
    session.delete(member)
    session.flush()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    session: Session, *, organization_id: uuid.UUID, actor: Membership, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite an email with a role; return the invitation and its one-time token."""
    _require_manager(actor)
    if role_rank(role) > role_rank(actor.role):
        raise PermissionDeniedError("nobody can invite with a role above their own")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=organization_id,
        email=email.strip(),  # mailed as given; compared on its key when accepted
        role=role,
        token_hash=_hash(token),
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        created_by=actor.user_id,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def list_invitations(
    session: Session, *, organization_id: uuid.UUID, actor: Membership
) -> list[Invitation]:
    """Return the organization's pending invitations (not accepted, not expired)."""
    _require_manager(actor)
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organization_id == organization_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at, Invitation.id)
        )
    )


def revoke_invitation(
    session: Session, *, organization_id: uuid.UUID, actor: Membership, invitation_id: uuid.UUID
) -> None:
    """Delete a pending invitation of the organization; its token stops working."""
    _require_manager(actor)
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id,
            Invitation.organization_id == organization_id,
            Invitation.accepted_at.is_(None),
        )
    )
    if invitation is None:
        raise NotFoundError("invitation not found", details={"id": str(invitation_id)})
    if role_rank(invitation.role) > role_rank(actor.role):
        raise PermissionDeniedError("nobody can revoke an invitation above their own role")
    session.delete(invitation)
    session.flush()


def accept_invitation(session: Session, *, token: str, user: User) -> Membership:
    """Join the inviting organization with the invited role; the token works once, for its email."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == _hash(token)).with_for_update()
    )
    usable = invitation is not None and invitation.accepted_at is None
    if invitation is None or not usable or invitation.expires_at <= utcnow():
        raise AuthError("the invitation is invalid, used, revoked or expired")
    if normalise_email(invitation.email) != normalise_email(user.email):
        raise PermissionDeniedError(
            "this invitation was sent to another email address; log in with that one"
        )
    invitation.accepted_at = utcnow()
    membership = Membership(
        organization_id=invitation.organization_id, user_id=user.id, role=invitation.role
    )
    insert_or_conflict(
        session, membership, lambda: ConflictError("you are already a member of this organization")
    )
    return membership
