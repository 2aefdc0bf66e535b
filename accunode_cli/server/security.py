"""Passwords (bcrypt), access tokens (JWT HS256 with iss/aud/jti) and signed one-purpose tokens."""

from __future__ import annotations

import functools
import ipaddress
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt

from accunode_cli.errors import AuthError

__all__ = [
    "AccessClaims",
    "hash_password",
    "verify_password",
    "create_access_token",
    "decode_access_token",
    "create_purpose_token",
    "decode_purpose_token",
    "client_ip",
]

_ALGORITHM = "HS256"
_REQUIRED = ["exp", "iat", "sub", "jti", "iss", "aud"]


def hash_password(password: str, *, rounds: int) -> str:
    """Return the bcrypt hash of a password (bcrypt reads at most 72 bytes)."""
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Return whether the password matches the hash."""
    try:
        return bcrypt.checkpw(password.encode()[:72], password_hash.encode())
    except ValueError:
        return False


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: uuid.UUID
    jti: str
    session_id: str
    issued_at: int
    expires_at: int
    issued_at_us: int = 0
    """Microseconds since the epoch (0 in a token without it): compared with revocation times."""


def create_access_token(
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    secret: str,
    issuer: str,
    audience: str,
    minutes: float,
) -> tuple[str, int]:
    """Return a signed access token and its lifetime in seconds."""
    now_us = time.time_ns() // 1000
    now = datetime.fromtimestamp(now_us / 1_000_000, UTC)
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": now_us // 1_000_000,
        "iat_us": now_us,  # iat has whole seconds: a password change must not miss the rest
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
        "iss": issuer,
        "aud": audience,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM), int(minutes * 60)


def decode_access_token(token: str, *, secret: str, issuer: str, audience: str) -> AccessClaims:
    """Verify signature, algorithm, expiry, issuer and audience; raise AuthError otherwise.

    A token verified once is remembered (the same string with the same key always verifies
    the same way), so a client's repeated requests cost a dictionary lookup and the expiry
    check, not an HMAC and a JSON parse each.
    """
    claims = _verified_access_claims(token, secret, issuer, audience)
    if claims.expires_at <= time.time():
        raise AuthError("the access token is invalid or expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified_access_claims(token: str, secret: str, issuer: str, audience: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],  # never "none", never a key-confusion algorithm
            audience=audience,
            issuer=issuer,
            options={"require": _REQUIRED},
        )
        if claims.get("typ") != "access":
            raise AuthError("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            jti=str(claims["jti"]),
            session_id=str(claims.get("sid", "")),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            issued_at_us=int(claims.get("iat_us", int(claims["iat"]) * 1_000_000)),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise AuthError("the access token is invalid or expired") from exc


def create_purpose_token(
    *,
    subject: str,
    purpose: str,
    secret: str,
    issuer: str,
    hours: int,
    extra: dict[str, Any],
    minutes: int | None = None,
) -> str:
    """Return a signed token usable only for ``purpose`` (for example verify-email).

    It lives ``hours``, or ``minutes`` when given.
    """
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=minutes) if minutes is not None else timedelta(hours=hours)
    claims = {
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "iss": issuer,
        "aud": f"{issuer}:{purpose}",
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_purpose_token(token: str, *, purpose: str, secret: str, issuer: str) -> dict[str, Any]:
    """Verify a purpose token and return its claims; raise AuthError otherwise."""
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=f"{issuer}:{purpose}",
            issuer=issuer,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"the {purpose} token is invalid or expired") from exc


def _is_trusted(address: str, trusted: list[str]) -> bool:
    return bool(trusted) and _is_in_networks(address, tuple(trusted))


@functools.lru_cache(maxsize=4096)
def _is_in_networks(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in networks:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(peer: str | None, forwarded_for: str | None, trusted: list[str]) -> str:
    """Return the client address: the socket peer, or X-Forwarded-For only via trusted proxies."""
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):  # the right-most address not added by our own proxies
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else address
