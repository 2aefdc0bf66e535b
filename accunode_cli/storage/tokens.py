"""Refresh tokens: opaque, stored hashed, rotated on use; reusing a dead one kills its family."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError
from accunode_cli.storage.common import dialect_insert, lock_row
from accunode_cli.storage.db import new_id, utcnow
from accunode_cli.storage.models import RefreshToken, RevokedToken, User

__all__ = [
    "IssuedRefreshToken",
    "issue_refresh_token",
    "rotate_refresh_token",
    "revoke_refresh_token",
    "revoke_user_tokens",
    "record_revocations",
    "live_revocations",
]


@dataclass(frozen=True)
class IssuedRefreshToken:
    """A new refresh token: the secret (shown once), its user and its family (login session)."""

    token: str
    user_id: uuid.UUID
    family_id: uuid.UUID


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(
    session: Session, *, user_id: uuid.UUID, days: int, family_id: uuid.UUID | None = None
) -> IssuedRefreshToken:
    """Create a refresh token, starting a new family unless one is given."""
    token = secrets.token_urlsafe(48)
    family = family_id or new_id()
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family,
            token_hash=_hash(token),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return IssuedRefreshToken(token=token, user_id=user_id, family_id=family)


def _lock_user(session: Session, user_id: uuid.UUID) -> datetime | None:
    """Lock the user's row; return the time before which every token is void (or None)."""
    lock_row(session, User, user_id)
    return session.scalar(select(User.tokens_valid_after).where(User.id == user_id))


def _revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def rotate_refresh_token(
    session: Session, *, token: str, days: int
) -> tuple[IssuedRefreshToken | None, uuid.UUID | None]:
    """Spend a refresh token and issue its successor.

    Returns (new token, None) on success, or (None, family id) when a dead token was reused: that
    family is revoked here and the caller must also revoke its access tokens and then fail.
    """
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
    if row is None or row.expires_at <= utcnow():
        raise AuthError("the refresh token is invalid or expired")
    # The user's row lock orders this rotation with a password change, a logout or a reuse
    # revocation of the same user: whichever runs second sees what the first committed.
    revoked_after = _lock_user(session, row.user_id)
    if revoked_after is not None and row.created_at < revoked_after:
        _revoke_family(session, row.family_id)
        return None, row.family_id
    # Compare-and-set: of two racing refreshes with the same token, exactly one wins.
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        _revoke_family(session, row.family_id)
        return None, row.family_id
    return issue_refresh_token(
        session, user_id=row.user_id, days=days, family_id=row.family_id
    ), None


def revoke_refresh_token(session: Session, *, token: str, user_id: uuid.UUID) -> uuid.UUID | None:
    """Revoke the token's whole family (the login session); return the family id if found."""
    row = session.scalar(
        select(RefreshToken).where(
            RefreshToken.token_hash == _hash(token), RefreshToken.user_id == user_id
        )
    )
    if row is None:
        return None
    _lock_user(session, user_id)  # a rotation in flight commits first; its successor is revoked
    _revoke_family(session, row.family_id)
    return row.family_id


def revoke_user_tokens(session: Session, *, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of a user (after a password change)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def record_revocations(session: Session, *, keys: list[str], expires_at: datetime) -> None:
    """Keep revocations (``jti:…``, ``sid:…``) in the database until ``expires_at``."""
    if not keys:
        return
    insert = dialect_insert(session)(RevokedToken)
    rows = [{"key": key, "expires_at": expires_at, "created_at": utcnow()} for key in keys]
    session.execute(insert.values(rows).on_conflict_do_nothing(index_elements=["key"]))


def live_revocations(session: Session) -> list[tuple[str, datetime]]:
    """Return the revocations that have not expired (and forget those that have)."""
    now = utcnow()
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    rows = session.execute(
        select(RevokedToken.key, RevokedToken.expires_at).where(RevokedToken.expires_at > now)
    ).all()
    return [(key, expires_at) for key, expires_at in rows]
