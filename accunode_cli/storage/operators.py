"""What the person who runs the server may do directly on the database (``accunode admin``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accunode_cli.errors import NotFoundError
from accunode_cli.storage.models import Membership, Organization, User
from accunode_cli.storage.tokens import revoke_user_tokens
from accunode_cli.storage.users import find_user_by_email, lock_user, set_password_hash

__all__ = ["OrganizationRow", "list_users", "list_organizations", "require_user", "deactivate"]


def list_users(session: Session) -> list[User]:
    """Return every user, oldest first."""
    return list(session.scalars(select(User).order_by(User.created_at, User.id)))


def require_user(session: Session, email: str) -> User:
    """Return the user of an email (any case) or raise NotFoundError."""
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFoundError(f"no account has the email {email!r}", details={"email": email})
    return user


def deactivate(session: Session, email: str) -> User:
    """Stop a user from logging in; their tokens stop working at once."""
    user = require_user(session, email)
    locked = lock_user(session, user.id)
    assert locked is not None
    locked.is_active = False
    set_password_hash(session, locked, locked.password_hash)  # tokens issued before now die
    revoke_user_tokens(session, user_id=locked.id)
    return locked


@dataclass(frozen=True)
class OrganizationRow:
    """An organization with its member count and owners' emails."""

    id: str
    name: str
    personal: bool
    members: int
    owners: list[str]
    created_at: datetime


def list_organizations(session: Session) -> list[OrganizationRow]:
    """Return every organization with its members and owners (two queries)."""
    counts = session.execute(
        select(Organization, func.count(Membership.id))
        .outerjoin(Membership, Membership.organization_id == Organization.id)
        .group_by(Organization.id)
        .order_by(Organization.created_at, Organization.id)
    ).all()
    owners: dict[object, list[str]] = {}
    for organization_id, email in session.execute(
        select(Membership.organization_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == "owner")
        .order_by(User.email)
    ):
        owners.setdefault(organization_id, []).append(email)
    return [
        OrganizationRow(
            id=str(organization.id),
            name=organization.name,
            personal=organization.personal_for_user_id is not None,
            members=int(count),
            owners=owners.get(organization.id, []),
            created_at=organization.created_at,
        )
        for organization, count in counts
    ]
