"""Schemas of /auth and /users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

__all__ = [
    "UserRegister",
    "LoginRequest",
    "TokenPair",
    "RefreshRequest",
    "VerifyEmailRequest",
    "PasswordChange",
    "PasswordResetRequest",
    "PasswordResetConfirm",
    "UserPublic",
    "UserUpdate",
    "OrganizationCreate",
    "OrganizationPublic",
    "OrganizationMembershipPublic",
    "MemberPublic",
    "MemberRoleUpdate",
    "InvitationCreate",
    "InvitationPublic",
    "InvitationSummary",
    "InvitationAccept",
    "Role",
    "NewPassword",
]

Role = Literal["viewer", "analyst", "admin", "owner"]
PASSWORD_MAX_BYTES = 72  # bcrypt reads no further: a longer password would be cut silently


def _fits_bcrypt(password: str) -> str:
    if len(password.encode()) > PASSWORD_MAX_BYTES:
        raise ValueError(
            f"the password is longer than {PASSWORD_MAX_BYTES} bytes in UTF-8; use a shorter one"
        )
    return password


NewPassword = Annotated[
    str,
    Field(min_length=8, max_length=PASSWORD_MAX_BYTES, description="8 to 72 bytes in UTF-8"),
    AfterValidator(_fits_bcrypt),
]


class UserRegister(BaseModel):
    """A new account. Extra fields (such as a role) are refused: nobody chooses their own role."""

    email: EmailStr
    password: NewPassword
    full_name: str = Field(default="", max_length=200)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ann@example.com",
                    "password": "correct horse battery",
                    "full_name": "Ann",
                }
            ]
        },
    )


class LoginRequest(BaseModel):
    """Email and password."""

    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ann@example.com", "password": "correct horse battery"}]
        }
    )


class TokenPair(BaseModel):
    """A short-lived access token and a long-lived, rotating refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshRequest(BaseModel):
    """A refresh token to spend (refresh-token) or revoke (logout)."""

    refresh_token: str = Field(min_length=1, max_length=512)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "kq3V...the refresh_token from login"}]}
    )


class VerifyEmailRequest(BaseModel):
    """The token sent to the user's email."""

    token: str = Field(min_length=1, max_length=2048)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "eyJhbGciOi...the mailed token"}]}
    )


class PasswordResetRequest(BaseModel):
    """The email of the account whose password is forgotten."""

    email: EmailStr

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ann@example.com"}]})


class PasswordResetConfirm(BaseModel):
    """The mailed reset token and the new password."""

    token: str = Field(min_length=1, max_length=2048)
    new_password: NewPassword

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "eyJhbGciOi...the mailed token", "new_password": "new one 42"}]
        }
    )


class PasswordChange(BaseModel):
    """The current password and a new one."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: NewPassword

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"current_password": "correct horse battery", "new_password": "a longer one 2"}
            ]
        }
    )


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    id: uuid.UUID
    email: str
    full_name: str
    email_verified: bool
    created_at: datetime


class UserUpdate(BaseModel):
    """Profile fields a user may change."""

    full_name: str = Field(max_length=200)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"full_name": "Ann Lee"}]}
    )


class OrganizationCreate(BaseModel):
    """A new shared organization; its creator becomes its owner."""

    name: str = Field(min_length=1, max_length=200)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Credit team"}]}
    )


class OrganizationPublic(BaseModel):
    """An organization."""

    id: uuid.UUID
    name: str
    personal: bool
    created_at: datetime


class OrganizationMembershipPublic(OrganizationPublic):
    """An organization and the caller's role in it."""

    role: Role


class MemberPublic(BaseModel):
    """A member of an organization."""

    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role


class MemberRoleUpdate(BaseModel):
    """A member's new role."""

    role: Role

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "analyst"}]})


class InvitationCreate(BaseModel):
    """Invite someone by email with a role (at most your own)."""

    email: EmailStr
    role: Role = "viewer"

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "bo@example.com", "role": "analyst"}]},
    )


class InvitationPublic(BaseModel):
    """A new invitation; the token is shown once (and mailed when SMTP is configured)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    token: str


class InvitationSummary(BaseModel):
    """A pending invitation as its organization's managers see it (never its token)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime
    created_by: uuid.UUID | None


class InvitationAccept(BaseModel):
    """An invitation token."""

    token: str = Field(min_length=1, max_length=512)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "Zx8...the token from the invitation"}]}
    )
