"""Authenticate a request by an API key (``Authorization: Bearer acn_…``).

The one branch of the authentication dependency that is not a login. A key answers for one
organization with the lower of its own role and its owner's current role there, so a removed
or demoted member's keys lose their power at once. The database is the truth, read in one
query per request (the key, its user, their membership): a revocation, an expiry or a removal
counts on every process at the next request. The revocation is also flagged in the shared
store, which is checked in the same round trip as the rate limits.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from starlette.concurrency import run_in_threadpool

from accunode_cli.errors import AuthError, NotFoundError
from accunode_cli.server.deps import Tenant, check_limits, count_hits
from accunode_cli.server.state import AppState
from accunode_cli.storage import api_keys
from accunode_cli.storage.db import utcnow
from accunode_cli.storage.organizations import role_rank

__all__ = ["api_key_tenant", "revoked_flag", "REVOKED_FLAG_SECONDS", "API_KEY_REFUSED"]

REVOKED_FLAG_SECONDS = 24 * 3600
API_KEY_REFUSED = (
    "API keys cannot be used here: managing accounts, organizations and API keys needs a "
    "login (accunode login)"
)


def revoked_flag(key_id: uuid.UUID) -> str:
    """Return the shared-store flag that marks a key revoked."""
    return f"revoked:apikey:{key_id}"


def _read_access(state: AppState, key: str) -> api_keys.KeyAccess | None:
    """Read the key's access; record its use (at most once a minute) when it may be used."""
    with state.sessions() as session, session.begin():
        access = api_keys.find_key_access(session, key=key)
        if access is None or _refusal(access) is not None:
            return access
        recent = utcnow() - timedelta(seconds=api_keys.LAST_USE_SECONDS)
        if access.last_used_at is None or access.last_used_at < recent:
            api_keys.record_use(session, key_id=access.key_id)
        return access


def _refusal(access: api_keys.KeyAccess) -> str | None:
    if access.revoked_at is not None:
        return "the API key has been revoked"
    if access.expires_at is not None and access.expires_at <= utcnow():
        return "the API key has expired"
    if not access.user_active or access.member_role is None:
        return "the API key's owner is no longer a member of its organization"
    return None


async def api_key_tenant(
    state: AppState, ip: str, key: str, organization_id: uuid.UUID | None
) -> Tenant:
    """Return the tenant an API key acts as; raise AuthError (401) when it cannot be used."""
    problem: AuthError | None = None
    access: api_keys.KeyAccess | None = None
    try:
        api_keys.check_api_key(key)  # a malformed key costs no database read
    except AuthError as exc:
        problem = exc
    if problem is None:
        access = await run_in_threadpool(_read_access, state, key)
    counters = [f"rl:ip:{ip}"]
    flags: list[str] = []
    if access is not None:
        counters.append(f"rl:user:{access.user_id}")
        flags.append(revoked_flag(access.key_id))
    counts, revoked = await count_hits(state, counters, flags)
    check_limits(state, counts)
    if problem is not None:
        raise problem
    if access is None:
        raise AuthError("the API key is not valid")
    reason = "the API key has been revoked" if revoked else _refusal(access)
    if reason is not None:
        raise AuthError(reason)
    if organization_id is not None and organization_id != access.organization_id:
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    assert access.member_role is not None
    role = min(access.key_role, access.member_role, key=role_rank)
    return Tenant(
        organization_id=access.organization_id,
        user_id=access.user_id,
        role=role,
        api_key_id=access.key_id,
    )
