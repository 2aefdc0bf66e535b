"""/api-keys: create, list and revoke the organization's API keys (a login is needed, never a key).

Admins and owners see and revoke every key of the organization; other members their own.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from accunode_cli.errors import NotFoundError, PermissionDeniedError
from accunode_cli.server.api_key_auth import (
    API_KEY_REFUSED,
    REVOKED_FLAG_SECONDS,
    revoked_flag,
)
from accunode_cli.server.deps import SessionDep, StateDep, Tenant, TenantDep, has_role
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyCurrent,
    ApiKeyPublic,
    Message,
)
from accunode_cli.storage import api_keys
from accunode_cli.storage.models import ApiKey, Organization, User
from accunode_cli.storage.organizations import role_rank

router = APIRouter(prefix="/api-keys", tags=["api-keys"], responses=ERROR_RESPONSES)
# GET /api-key is a path of its own: under /api-keys it would share /api-keys/{key_id}'s
# pattern, and a 405 there would advertise DELETE.
current_router = APIRouter(tags=["api-keys"], responses=ERROR_RESPONSES)


def _body(row: ApiKey) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ApiKeyPublic.model_fields}


def _login_only(tenant: Tenant) -> None:
    if tenant.api_key_id is not None:
        raise PermissionDeniedError(API_KEY_REFUSED)


def _owner_filter(tenant: Tenant) -> uuid.UUID | None:
    """Admins and owners act on every key of the organization; the others on their own."""
    return None if has_role(tenant, "admin") else tenant.user_id


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyCreate, tenant: TenantDep, session: SessionDep) -> Any:
    """Make a key for scripts; the key is in this response only (store it as a secret)."""
    _login_only(tenant)
    role: str = body.role or min(tenant.role, "admin", key=role_rank)
    if role_rank(role) > role_rank(tenant.role):
        raise PermissionDeniedError(
            f"a key's role cannot be above your own ({tenant.role})",
            details={"role": role, "your_role": tenant.role},
        )
    row, key = api_keys.create_api_key(
        session,
        organization_id=tenant.organization_id,
        user_id=tenant.user_id,
        name=body.name.strip(),
        role=role,
        expires_in_days=body.expires_in_days,
    )
    return {**_body(row), "key": key}


@router.get("", response_model=list[ApiKeyPublic])
def list_api_keys(
    tenant: TenantDep,
    session: SessionDep,
    include_revoked: Annotated[bool, Query(description="Also list revoked keys")] = False,
) -> Any:
    """List the organization's keys (yours only unless you are an admin or owner)."""
    _login_only(tenant)
    rows = api_keys.list_api_keys(
        session,
        organization_id=tenant.organization_id,
        user_id=_owner_filter(tenant),
        include_revoked=include_revoked,
    )
    return [_body(row) for row in rows]


@current_router.get("/api-key", response_model=ApiKeyCurrent)
def current_api_key(tenant: TenantDep, session: SessionDep) -> Any:
    """Describe the API key this request authenticated with (404 for a login)."""
    if tenant.api_key_id is None:
        raise NotFoundError("this request was not authenticated with an API key")
    row = api_keys.get_api_key(
        session, organization_id=tenant.organization_id, key_id=tenant.api_key_id, user_id=None
    )
    user = session.get(User, row.user_id)
    organization = session.get(Organization, row.organization_id)
    return {
        **_body(row),
        "email": user.email if user is not None else "",
        "organization_name": organization.name if organization is not None else "",
        "effective_role": tenant.role,
    }


@router.delete("/{key_id}", response_model=Message)
def revoke_api_key(
    key_id: uuid.UUID, tenant: TenantDep, session: SessionDep, state: StateDep
) -> Any:
    """Revoke a key at once on every server process (it stays listed as revoked, for audit)."""
    _login_only(tenant)
    row = api_keys.get_api_key(
        session,
        organization_id=tenant.organization_id,
        key_id=key_id,
        user_id=_owner_filter(tenant),
    )
    api_keys.revoke_api_key(session, key=row)
    state.store.set_flag(revoked_flag(row.id), REVOKED_FLAG_SECONDS)
    return {"message": "API key revoked"}
