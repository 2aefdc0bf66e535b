"""Request dependencies: the session (the boundary owns the transaction), the caller, the tenant."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from accunode_cli.errors import AuthError, NotFoundError, PermissionDeniedError, RateLimitedError
from accunode_cli.server.security import AccessClaims, client_ip, decode_access_token
from accunode_cli.server.state import AppState
from accunode_cli.storage.models import Membership, User

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
    "WriterDep",
    "limit_client",
    "request_client_ip",
]

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


def limit_client(state: StateDep, ip: Annotated[str, Depends(request_client_ip)]) -> None:
    """Rate-limit an unauthenticated request by client address (get_claims does the rest)."""
    limit = state.settings.rate_limit_per_minute
    [(count, reset)], _ = state.store.hit([f"rl:ip:{ip}"], 60, [])
    if count > limit:
        raise RateLimitedError(
            "too many requests; slow down", details={"retry_after": reset, "limit": limit}
        )


def get_claims(
    state: StateDep,
    ip: Annotated[str, Depends(request_client_ip)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> AccessClaims:
    """Rate-limit by client and user, and verify the bearer token and its revocation.

    The client and user counters and the revocation flags cost one Redis round trip.
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
    counts, revoked = state.store.hit(counters, 60, flags)
    limit = settings.rate_limit_per_minute
    for count, reset in counts:
        if count > limit:
            raise RateLimitedError(
                "too many requests; slow down", details={"retry_after": reset, "limit": limit}
            )
    if problem is not None:
        raise problem
    if claims is None:
        raise AuthError("not authenticated: send Authorization: Bearer <access_token>")
    if revoked:
        raise AuthError("the access token has been revoked")
    return claims


ClaimsDep = Annotated[AccessClaims, Depends(get_claims)]


def _check_user(user: User | None, claims: AccessClaims) -> User:
    if user is None or not user.is_active:
        raise AuthError("the access token is invalid or expired")
    if user.tokens_valid_after and claims.issued_at < user.tokens_valid_after.timestamp():
        raise AuthError("the access token was issued before a password change")
    return user


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the token they used."""

    user: User
    claims: AccessClaims


def get_principal(claims: ClaimsDep, session: SessionDep) -> Principal:
    """Return the authenticated, active user of the bearer token."""
    return Principal(user=_check_user(session.get(User, claims.user_id), claims), claims=claims)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Tenant:
    """The organization a request acts in and the caller's membership there."""

    organization_id: uuid.UUID
    membership: Membership
    user: User


def get_tenant(
    claims: ClaimsDep,
    session: SessionDep,
    organization_id: Annotated[
        uuid.UUID | None,
        Header(
            alias="X-Organization-ID",
            description="Organization to act in (default: your personal organization)",
        ),
    ] = None,
) -> Tenant:
    """Resolve the request's organization and check the caller belongs to it (else 404)."""
    from accunode_cli.storage import organizations

    user, membership = organizations.get_user_with_membership(
        session, user_id=claims.user_id, organization_id=organization_id
    )
    user = _check_user(user, claims)
    if membership is None:
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    return Tenant(organization_id=membership.organization_id, membership=membership, user=user)


TenantDep = Annotated[Tenant, Depends(get_tenant)]


def ensure_role(tenant: Tenant, minimum: str) -> None:
    """Raise PermissionDeniedError unless the caller's role is at least ``minimum``.

    Routes on an id call this after looking the row up, so another tenant's id answers 404.
    """
    from accunode_cli.storage.organizations import role_rank

    if role_rank(tenant.membership.role) < role_rank(minimum):
        raise PermissionDeniedError(
            f"this action needs the {minimum} role or higher",
            details={"role": tenant.membership.role},
        )


def require_role(minimum: str) -> Callable[[Tenant], Tenant]:
    """Return a dependency that lets through members with at least ``minimum``."""

    def check(tenant: TenantDep) -> Tenant:
        ensure_role(tenant, minimum)
        return tenant

    return check


WriterDep = Annotated[Tenant, Depends(require_role("analyst"))]
