"""Request dependencies: the session (the boundary owns the transaction), the caller, the tenant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, NotFoundError, PermissionDeniedError, RateLimitedError
from accunode_cli.server.security import AccessClaims, client_ip, decode_access_token
from accunode_cli.server.state import AppState
from accunode_cli.storage.api_keys import looks_like_api_key
from accunode_cli.storage.db import epoch_us
from accunode_cli.storage.kv import HitResult
from accunode_cli.storage.models import User
from accunode_cli.storage.organizations import Access, role_rank

__all__ = [
    "StateDep",
    "SessionDep",
    "PrincipalDep",
    "TenantDep",
    "Principal",
    "Tenant",
    "get_state",
    "get_session",
    "get_principal",
    "get_claims",
    "ClaimsDep",
    "get_tenant",
    "require_role",
    "ensure_role",
    "has_role",
    "WriterDep",
    "limit_client",
    "request_client_ip",
    "count_hits",
    "check_limits",
]

T = TypeVar("T")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_state(request: Request) -> AppState:
    """Return the process's shared resources (async: no I/O, so no thread-pool hop)."""
    state: AppState = request.app.state.accunode
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    """Yield a session in a transaction committed when the handler returns, rolled back on error."""
    with state.sessions() as session, session.begin():
        yield session


# scope="function": the commit happens before the response is sent, so a failure is reported.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_client_ip(request: Request, state: StateDep) -> str:
    """Return the client address (X-Forwarded-For only through trusted proxies; no I/O)."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    return client_ip(peer, forwarded, state.settings.trusted_proxies)


async def _hit(state: AppState, counters: list[str], flags: list[str]) -> HitResult:
    """Count the request on its rate-limit counters and check its revocation flags.

    On Redis, concurrent requests share one pipelined round trip (``state.hits``); the
    in-process store needs no I/O and is called directly.
    """
    if state.hits is None:
        return state.store.hit_many([(counters, flags)], 60)[0]
    return await state.hits.submit((counters, flags))


def _check_limits(state: AppState, counts: list[tuple[int, int]]) -> None:
    limit = state.settings.rate_limit_per_minute
    for count, reset in counts:
        if count > limit:
            raise RateLimitedError(
                "too many requests; slow down", details={"retry_after": reset, "limit": limit}
            )


count_hits = _hit  # the API-key branch (server/api_key_auth.py) counts the same way
check_limits = _check_limits


async def limit_client(state: StateDep, ip: Annotated[str, Depends(request_client_ip)]) -> None:
    """Rate-limit an unauthenticated request by client address (get_claims does the rest)."""
    counts, _ = await _hit(state, [f"rl:ip:{ip}"], [])
    _check_limits(state, counts)


async def _authenticate(
    state: AppState,
    ip: str,
    token: str | None,
    alongside: Callable[[AccessClaims], asyncio.Future[T]] | None = None,
) -> tuple[AccessClaims, T | None]:
    """Rate-limit by client and user, verify the bearer token and check its revocation.

    The client and user counters and the revocation flags cost one Redis round trip. When
    ``alongside`` is given (it queues the tenant's membership read), that read runs at the
    same time for a well-formed token, and its result counts only once the token has passed
    every check.
    """
    settings = state.settings
    claims: AccessClaims | None = None
    problem: AuthError | None = None
    if token:
        try:
            claims = decode_access_token(
                token,
                secret=state.jwt_secret,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
        except AuthError as exc:
            problem = exc
    counters = [f"rl:ip:{ip}"]
    flags: list[str] = []
    if claims is not None:
        counters.append(f"rl:user:{claims.user_id}")
        flags = [f"revoked:jti:{claims.jti}", f"revoked:sid:{claims.session_id}"]
    pending = alongside(claims) if claims is not None and alongside is not None else None
    try:
        counts, revoked = await _hit(state, counters, flags)
        _check_limits(state, counts)
        if problem is not None:
            raise problem
        if claims is None:
            raise AuthError("not authenticated: send Authorization: Bearer <access_token>")
        if revoked:
            raise AuthError("the access token has been revoked")
        return claims, (await pending if pending is not None else None)
    finally:
        if pending is not None:  # refused early: drop the read, and never leave its error unseen
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()


async def get_claims(
    state: StateDep,
    ip: Annotated[str, Depends(request_client_ip)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> AccessClaims:
    """Return the verified claims of the bearer token (rate-limited, not revoked)."""
    if token and looks_like_api_key(token):  # API keys act only through get_tenant
        from accunode_cli.server.api_key_auth import API_KEY_REFUSED

        raise PermissionDeniedError(API_KEY_REFUSED)
    claims, _ = await _authenticate(state, ip, token)
    return claims


ClaimsDep = Annotated[AccessClaims, Depends(get_claims)]


def _check_user(user: User | Access | None, claims: AccessClaims) -> None:
    if user is None or not user.is_active:
        raise AuthError("the access token is invalid or expired")
    if user.tokens_valid_after and claims.issued_at_us < epoch_us(user.tokens_valid_after):
        raise AuthError("the access token was issued before a password change")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the token they used."""

    user: User
    claims: AccessClaims


def get_principal(claims: ClaimsDep, session: SessionDep) -> Principal:
    """Return the authenticated, active user of the bearer token."""
    user = session.get(User, claims.user_id)
    _check_user(user, claims)
    assert user is not None
    return Principal(user=user, claims=claims)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Tenant:
    """The organization a request acts in, the caller and their role there."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    api_key_id: uuid.UUID | None = None  # set when an API key, not a login, authenticated


async def get_tenant(
    state: StateDep,
    ip: Annotated[str, Depends(request_client_ip)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
    organization_id: Annotated[
        uuid.UUID | None,
        Header(
            alias="X-Organization-ID",
            description="Organization to act in (default: your personal organization)",
        ),
    ] = None,
) -> Tenant:
    """Authenticate, resolve the request's organization and check the caller belongs to it.

    An organization the caller is not a member of answers 404. The membership read runs
    alongside the Redis checks, and concurrent requests share it (``state.access``).
    An ``acn_`` bearer is an API key: its own branch (server/api_key_auth.py) answers.
    """
    if token and looks_like_api_key(token):
        from accunode_cli.server.api_key_auth import api_key_tenant

        return await api_key_tenant(state, ip, token, organization_id)

    def read_access(claims: AccessClaims) -> asyncio.Future[Access | None]:
        return state.access.enqueue((claims.user_id, organization_id))

    claims, access = await _authenticate(state, ip, token, read_access)
    _check_user(access, claims)
    if access is None or access.organization_id is None or access.role is None:
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    return Tenant(organization_id=access.organization_id, user_id=claims.user_id, role=access.role)


TenantDep = Annotated[Tenant, Depends(get_tenant)]


def has_role(tenant: Tenant, minimum: str) -> bool:
    """Return whether the caller's role is at least ``minimum``."""
    return role_rank(tenant.role) >= role_rank(minimum)


def ensure_role(tenant: Tenant, minimum: str) -> None:
    """Raise PermissionDeniedError unless the caller's role is at least ``minimum``.

    Routes on an id call this after looking the row up, so another tenant's id answers 404.
    """
    if not has_role(tenant, minimum):
        raise PermissionDeniedError(
            f"this action needs the {minimum} role or higher", details={"role": tenant.role}
        )


def require_role(minimum: str) -> Callable[[Tenant], Awaitable[Tenant]]:
    """Return a dependency that lets through members with at least ``minimum``."""

    async def check(tenant: TenantDep) -> Tenant:  # no I/O: no thread hop
        ensure_role(tenant, minimum)
        return tenant

    return check


WriterDep = Annotated[Tenant, Depends(require_role("analyst"))]
