"""Schemas of API keys: create (name, role, expiry), the public view, the one-time secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ApiKeyCreate", "ApiKeyPublic", "ApiKeyCreated", "ApiKeyCurrent", "ApiKeyRole"]

ApiKeyRole = Literal["viewer", "analyst", "admin"]


class ApiKeyCreate(BaseModel):
    """A new key of the organization you act in; its role is at most your own."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^\s*\S.*$")
    role: ApiKeyRole | None = Field(
        default=None, description="Default: your own role there (admin at most)"
    )
    expires_in_days: int | None = Field(
        default=90, ge=1, le=3650, description="null: the key never expires"
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "nightly CI", "role": "analyst"}]},
    )


class ApiKeyPublic(BaseModel):
    """A key as lists show it: never the secret, only its first characters."""

    id: uuid.UUID
    organization_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A key just made: ``key`` is shown this once and cannot be read again."""

    key: str


class ApiKeyCurrent(ApiKeyPublic):
    """The key this request authenticated with, its owner and the role it acts with now."""

    email: str
    organization_name: str
    effective_role: str
