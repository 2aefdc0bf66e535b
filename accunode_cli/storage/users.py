"""Users: emails kept as given and compared on a case-folded key, password hashes, profiles."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accunode_cli.errors import ConflictError, NotFoundError
from accunode_cli.storage.common import insert_or_conflict, lock_row
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.models import Membership, Organization, User

__all__ = [
    "normalise_email",
    "create_user",
    "get_user",
    "find_user_by_email",
    "update_user",
    "set_password_hash",
    "mark_email_verified",
    "lock_user",
]


def normalise_email(email: str) -> str:
    """Return the key an email is compared on: trimmed and case-folded.

    Only the key is folded ("Straße" and "STRASSE" are one account); the address is stored
    and mailed exactly as given, since folding can turn it into another mailbox.
    """
    return email.strip().casefold()


def create_user(session: Session, *, email: str, password_hash: str, full_name: str) -> User:
    """Create a user with a personal organization it owns; a taken email raises ConflictError."""
    user = User(
        email=email.strip(),
        email_key=normalise_email(email),
        password_hash=password_hash,
        full_name=full_name,
    )
    insert_or_conflict(
        session, user, lambda: ConflictError("an account with this email already exists")
    )
    label = (full_name.strip() or user.email)[:180]  # the name column holds 200 characters
    organization = Organization(
        name=f"{label} (personal)", personal_for_user_id=user.id, created_by=user.id
    )
    session.add(organization)
    session.flush()
    session.add(Membership(organization_id=organization.id, user_id=user.id, role="owner"))
    session.flush()
    return user


def get_user(session: Session, user_id: uuid.UUID) -> User:
    """Return an active user by id or raise NotFoundError."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFoundError("user not found")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this email (any case), or None."""
    return session.scalar(select(User).where(User.email_key == normalise_email(email)))


def update_user(session: Session, user: User, *, full_name: str | None = None) -> User:
    """Change a user's profile fields."""
    if full_name is not None:
        user.full_name = full_name
    session.flush()
    return user


def set_password_hash(session: Session, user: User, password_hash: str) -> datetime:
    """Store a new password hash and invalidate every token issued before now.

    The user's row is locked first and the time read after: a refresh holding the lock
    finishes before, so every token it issued is older than ``tokens_valid_after``
    (compared to the microsecond).
    """
    lock_row(session, User, user.id)
    user.password_hash = password_hash
    user.tokens_valid_after = utcnow()
    session.flush()
    return user.tokens_valid_after


def mark_email_verified(session: Session, user: User) -> None:
    """Record that the user proved they own their email."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.flush()


def lock_user(session: Session, user_id: uuid.UUID) -> User | None:
    """Lock a user's row for the transaction and return it as it is now (None: no such user)."""
    if not lock_row(session, User, user_id):
        return None
    return session.scalar(
        select(User).where(User.id == user_id).execution_options(populate_existing=True)
    )
