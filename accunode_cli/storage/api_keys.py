"""API keys: the key format (prefix, secret, checksum), and the organization-scoped repository.

A key reads ``acn_`` + 36 random base62 characters (about 214 bits) + a 6-character base62
CRC32 of them. The prefix makes a leaked key easy to recognise (secret scanners), the checksum
lets the server (and any scanner) reject a mistyped or made-up key without a database lookup.
Only the sha256 of the whole key is stored: for a secret this random a fast hash is right (no
dictionary to guess from), and it lets the server find the key by an indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, NotFoundError
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.models import ApiKey, Membership, User

__all__ = [
    "API_KEY_PREFIX",
    "LAST_USE_SECONDS",
    "KeyAccess",
    "looks_like_api_key",
    "check_api_key",
    "hash_api_key",
    "new_api_key",
    "create_api_key",
    "list_api_keys",
    "get_api_key",
    "revoke_api_key",
    "find_key_access",
    "record_use",
]

API_KEY_PREFIX = "acn_"
LAST_USE_SECONDS = 60  # last use is written at most once a minute per key
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_LENGTH = 36
_CHECKSUM_LENGTH = 6
_KEY_LENGTH = len(API_KEY_PREFIX) + _SECRET_LENGTH + _CHECKSUM_LENGTH
_SHOWN = len(API_KEY_PREFIX) + 8  # the prefix shown in lists: "acn_" + 8 characters


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode()), _CHECKSUM_LENGTH)


def looks_like_api_key(token: str) -> bool:
    """Return whether a bearer credential is meant as an API key (its prefix)."""
    return token.startswith(API_KEY_PREFIX)


def check_api_key(key: str) -> None:
    """Raise AuthError unless ``key`` has the API key format and a correct checksum."""
    body = key[len(API_KEY_PREFIX) :]
    if (
        not looks_like_api_key(key)
        or len(key) != _KEY_LENGTH
        or any(char not in _ALPHABET for char in body)
        or _checksum(body[:_SECRET_LENGTH]) != body[_SECRET_LENGTH:]
    ):
        raise AuthError("the API key is malformed (copy it again, whole)")


def hash_api_key(key: str) -> str:
    """Return the stored form of a key: its sha256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    """Return a fresh random key in the ``acn_`` format."""
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    return API_KEY_PREFIX + secret + _checksum(secret)


def create_api_key(
    session: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    role: str,
    expires_in_days: int | None,
) -> tuple[ApiKey, str]:
    """Store a new key for ``user_id`` in the organization; return the row and the key (once)."""
    key = new_api_key()
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiKey(
        organization_id=organization_id,
        user_id=user_id,
        name=name,
        role=role,
        prefix=key[:_SHOWN],
        key_hash=hash_api_key(key),
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    return row, key


def list_api_keys(
    session: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
    include_revoked: bool = False,
) -> Sequence[ApiKey]:
    """List the organization's keys (only ``user_id``'s when given), newest first."""
    query = select(ApiKey).where(ApiKey.organization_id == organization_id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return session.scalars(query.order_by(ApiKey.created_at.desc(), ApiKey.id)).all()


def get_api_key(
    session: Session, *, organization_id: uuid.UUID, key_id: uuid.UUID, user_id: uuid.UUID | None
) -> ApiKey:
    """Return a key of the organization (of ``user_id`` when given), or raise NotFoundError."""
    query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.organization_id == organization_id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    row = session.scalar(query)
    if row is None:
        raise NotFoundError("API key not found", details={"id": str(key_id)})
    return row


def revoke_api_key(session: Session, *, key: ApiKey) -> None:
    """Mark a key revoked (kept for audit); revoking twice keeps the first time."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.refresh(key)


@dataclass(frozen=True)
class KeyAccess:
    """What a key may do right now: its row's facts and its owner's standing in the org."""

    key_id: uuid.UUID
    organization_id: uuid.UUID
    user_id: uuid.UUID
    key_role: str
    member_role: str | None  # None: the owner is no longer a member
    user_active: bool
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def find_key_access(session: Session, *, key: str) -> KeyAccess | None:
    """Return the key's access in one query (the key, its user, their membership), or None."""
    row = session.execute(
        select(ApiKey, User.is_active, Membership.role)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(
            Membership,
            and_(
                Membership.organization_id == ApiKey.organization_id,
                Membership.user_id == ApiKey.user_id,
            ),
        )
        .where(ApiKey.key_hash == hash_api_key(key))
    ).first()
    if row is None:
        return None
    api_key, active, member_role = row
    return KeyAccess(
        key_id=api_key.id,
        organization_id=api_key.organization_id,
        user_id=api_key.user_id,
        key_role=api_key.role,
        member_role=member_role,
        user_active=bool(active),
        expires_at=api_key.expires_at,
        revoked_at=api_key.revoked_at,
        last_used_at=api_key.last_used_at,
    )


def record_use(session: Session, *, key_id: uuid.UUID) -> bool:
    """Write the key's last use unless it was written in the last minute; return if written.

    The condition is in the UPDATE itself, so processes racing on one key write it once.
    """
    now = utcnow()
    done = session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < now - timedelta(seconds=LAST_USE_SECONDS),
            ),
        )
        .values(last_used_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]
