"""/organizations: create, read, members, invitations and roles."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, status
from sqlalchemy.orm import Session

from accunode_cli.errors import NotFoundError
from accunode_cli.server import accounts
from accunode_cli.server.deps import PrincipalDep, SessionDep, StateDep
from accunode_cli.server.presenters import etag_response, organization_body, public_json
from accunode_cli.server.schemas import (
    ERROR_RESPONSES,
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
    InvitationSummary,
    MemberPublic,
    MemberRoleUpdate,
    Message,
    OrganizationCreate,
    OrganizationMembershipPublic,
)
from accunode_cli.storage import organizations
from accunode_cli.storage.models import Membership

router = APIRouter(prefix="/organizations", tags=["organizations"], responses=ERROR_RESPONSES)


def _membership(
    session: Session, organization_id: uuid.UUID, principal: PrincipalDep
) -> Membership:
    membership = organizations.get_membership(
        session, organization_id=organization_id, user_id=principal.user.id
    )
    if membership is None:  # not a member: the organization does not exist for this caller
        raise NotFoundError("organization not found", details={"id": str(organization_id)})
    return membership


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganizationMembershipPublic)
def create_organization(
    body: OrganizationCreate, principal: PrincipalDep, session: SessionDep
) -> Any:
    """Create a shared organization; you become its owner."""
    organization = organizations.create_organization(
        session, name=body.name, owner_id=principal.user.id
    )
    return organization_body(organization, "owner")


@router.post("/invitations/accept", response_model=OrganizationMembershipPublic)
def accept_invitation(body: InvitationAccept, principal: PrincipalDep, session: SessionDep) -> Any:
    """Join an organization with an invitation token sent to your email."""
    user = session.merge(principal.user)
    membership = organizations.accept_invitation(session, token=body.token, user=user)
    organization = organizations.get_organization(
        session, organization_id=membership.organization_id
    )
    return organization_body(organization, membership.role)


@router.get("/{organization_id}", response_model=OrganizationMembershipPublic)
def get_organization(
    organization_id: uuid.UUID, request: Request, principal: PrincipalDep, session: SessionDep
) -> Any:
    """Return an organization you belong to (ETag supported)."""
    membership = _membership(session, organization_id, principal)
    organization = organizations.get_organization(session, organization_id=organization_id)
    body = organization_body(organization, membership.role)
    return etag_response(request, public_json(OrganizationMembershipPublic, body))


@router.get("/{organization_id}/members", response_model=list[MemberPublic])
def list_members(organization_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Any:
    """List the members of an organization you belong to."""
    _membership(session, organization_id, principal)
    rows = organizations.list_members(session, organization_id=organization_id)
    return [
        {"user_id": user.id, "email": user.email, "full_name": user.full_name, "role": role}
        for user, role in rows
    ]


@router.post(
    "/{organization_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationPublic,
)
def invite(
    organization_id: uuid.UUID,
    body: InvitationCreate,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    background: BackgroundTasks,
) -> Any:
    """Invite someone by email (owners and admins; at most your own role)."""
    actor = _membership(session, organization_id, principal)
    invitation, token = organizations.create_invitation(
        session, organization_id=organization_id, actor=actor, email=str(body.email), role=body.role
    )
    if state.settings.smtp_host:
        text = f"You are invited to an AccuNode organization. Accept with this token:\n\n{token}\n"
        background.add_task(
            accounts.send_mail, state, to=invitation.email, subject="AccuNode invitation", text=text
        )
    return {
        "id": invitation.id,
        "organization_id": invitation.organization_id,
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": invitation.expires_at,
        "token": token,
    }


@router.get("/{organization_id}/invitations", response_model=list[InvitationSummary])
def list_invitations(
    organization_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> Any:
    """List the pending invitations (owners and admins; tokens are never shown again)."""
    actor = _membership(session, organization_id, principal)
    rows = organizations.list_invitations(session, organization_id=organization_id, actor=actor)
    return [
        {
            "id": row.id,
            "organization_id": row.organization_id,
            "email": row.email,
            "role": row.role,
            "expires_at": row.expires_at,
            "created_at": row.created_at,
            "created_by": row.created_by,
        }
        for row in rows
    ]


@router.delete("/{organization_id}/invitations/{invitation_id}", response_model=Message)
def revoke_invitation(
    organization_id: uuid.UUID,
    invitation_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
) -> Any:
    """Revoke a pending invitation (owners and admins): its token stops working."""
    actor = _membership(session, organization_id, principal)
    organizations.revoke_invitation(
        session, organization_id=organization_id, actor=actor, invitation_id=invitation_id
    )
    return {"message": "invitation revoked"}


@router.put("/{organization_id}/members/{user_id}", response_model=MemberPublic)
def change_role(
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberRoleUpdate,
    principal: PrincipalDep,
    session: SessionDep,
) -> Any:
    """Change a member's role (owners and admins; never above your own role)."""
    actor = _membership(session, organization_id, principal)
    member = organizations.change_member_role(
        session, organization_id=organization_id, actor=actor, user_id=user_id, role=body.role
    )
    rows = organizations.list_members(session, organization_id=organization_id)
    user = next(user for user, _ in rows if user.id == member.user_id)
    return {
        "user_id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": member.role,
    }


@router.delete("/{organization_id}/members/{user_id}", response_model=Message)
def remove_member(
    organization_id: uuid.UUID, user_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> Any:
    """Remove a member, or leave (your own user id); the last owner cannot leave."""
    actor = _membership(session, organization_id, principal)
    organizations.remove_member(
        session, organization_id=organization_id, actor=actor, user_id=user_id
    )
    return {"message": "member removed"}
