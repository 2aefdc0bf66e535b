"""/users: your profile and your organizations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from accunode_cli.server.deps import PrincipalDep, SessionDep
from accunode_cli.server.presenters import (
    etag_response,
    organization_body,
    public_json,
    user_body,
)
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    OrganizationMembershipPublic,
    UserPublic,
    UserUpdate,
)
from accunode_cli.storage import organizations, users

router = APIRouter(prefix="/users", tags=["users"], responses=ERROR_RESPONSES)


@router.get("/profile", response_model=UserPublic)
def get_profile(principal: PrincipalDep, request: Request) -> Any:
    """Return your profile (ETag supported)."""
    return etag_response(request, public_json(UserPublic, user_body(principal.user)))


@router.put("/profile", response_model=UserPublic)
def update_profile(body: UserUpdate, principal: PrincipalDep, session: SessionDep) -> Any:
    """Change your profile."""
    user = session.merge(principal.user)
    return user_body(users.update_user(session, user, full_name=body.full_name))


@router.get("/organizations", response_model=list[OrganizationMembershipPublic])
def list_my_organizations(principal: PrincipalDep, session: SessionDep) -> Any:
    """List the organizations you belong to, with your role in each."""
    rows = organizations.list_user_organizations(session, user_id=principal.user.id)
    return [organization_body(org, role) for org, role in rows]
