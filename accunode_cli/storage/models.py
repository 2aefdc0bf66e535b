"""The ORM classes: one singular noun per table, UUID keys, aware timestamps, audit columns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from accunode_cli.scoring.ratios import QUARTERS, ratio_names
from accunode_cli.storage.db import Base, JSONType, RatioVector, UTCDateTime, new_id, utcnow

__all__ = [
    "ROLES",
    "QUARTERS",
    "User",
    "Organization",
    "Membership",
    "Invitation",
    "Company",
    "AnnualPrediction",
    "QuarterlyPrediction",
    "RefreshToken",
    "RevokedToken",
    "Job",
    "JobChunk",
    "JOB_STATUSES",
    "ACTIVE_JOB_STATUSES",
    "ApiKey",
]

ROLES = ("viewer", "analyst", "admin", "owner")  # in rising order of power
_ROLE_CHECK = "role IN ('viewer', 'analyst', 'admin', 'owner')"


class _Audited:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _created_by() -> Mapped[uuid.UUID | None]:
    return mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class User(_Audited, Base):
    """A person who logs in; the email is kept as given, and its case-folded key is unique."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Organization(_Audited, Base):
    """A tenant: every company and prediction belongs to exactly one."""

    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    personal_for_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    created_by: Mapped[uuid.UUID | None] = _created_by()


class Membership(_Audited, Base):
    """A user's role in an organization."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_memberships_org_user"),
        CheckConstraint(_ROLE_CHECK, name="role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))


class Invitation(_Audited, Base):
    """An invitation by email; the token is stored hashed and used once."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[uuid.UUID | None] = _created_by()


class Company(_Audited, Base):
    """A company scored by an organization; its symbol is unique inside the organization."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("organization_id", "symbol", name="uq_companies_org_symbol"),
        # The target of the predictions' (company, organization) foreign key.
        UniqueConstraint("id", "organization_id", name="uq_companies_id_org"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(100), nullable=True)
    market_cap: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[uuid.UUID | None] = _created_by()


class _PredictionColumns(_Audited):
    """The columns both prediction tables share.

    A bulk-upload job writes millions of these rows, so the tables carry what reads and
    integrity need and nothing more (docs/benchmarks.md measures each part). A prediction's
    company must exist in the prediction's organization, and deleting a company deletes its
    predictions: on SQLite by the foreign key declared here, on PostgreSQL by statement-level
    triggers that check and lock a statement's companies once, not once per row (migration
    0008). ``created_by`` and ``job_id`` are plain columns (users are never deleted, only
    deactivated; deleting a job clears its predictions' ``job_id`` in the same transaction,
    :func:`accunode_cli.storage.jobs.delete_job`); ids are time-ordered.
    """

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    company_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reporting_year: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    log_odds: Mapped[float] = mapped_column(Float)
    risk_level: Mapped[str] = mapped_column(String(16))
    implied_rating: Mapped[str] = mapped_column(String(8))
    flags: Mapped[dict[str, Any]] = mapped_column(JSONType)
    model_version: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Set when a bulk-upload job stored the row: its job and 1-based input row number.
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    row_number: Mapped[int | None] = mapped_column(Integer, nullable=True)

    kind: ClassVar[str]

    @declared_attr
    def contributions(cls) -> Mapped[dict[str, float]]:
        # per-ratio log-odds: a float array in the kind's ratio order on PostgreSQL
        return mapped_column(RatioVector(ratio_names(cls.kind)))

    @declared_attr
    def company(cls) -> Mapped[Company]:
        # joined: a list of predictions is one query, not one per row
        return relationship(Company, lazy="joined", viewonly=True)


class AnnualPrediction(_PredictionColumns, Base):
    """A scored annual statement; missing ratios are NULL, never 0."""

    __tablename__ = "annual_predictions"
    kind = "annual"
    __table_args__ = (
        UniqueConstraint("company_id", "reporting_year", name="uq_annual_company_year"),
        UniqueConstraint("job_id", "row_number", name="uq_annual_job_row"),
        Index("ix_annual_org_created", "organization_id", "created_at"),
        ForeignKeyConstraint(
            ["company_id", "organization_id"],
            ["companies.id", "companies.organization_id"],
            name="fk_annual_predictions_company_org",
            ondelete="CASCADE",
        ),
    )

    long_term_debt_to_total_capital: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_debt_to_ebitda: Mapped[float | None] = mapped_column(Float, nullable=True)
    net_income_margin: Mapped[float | None] = mapped_column(Float, nullable=True)
    ebit_to_interest_expense: Mapped[float | None] = mapped_column(Float, nullable=True)
    return_on_assets: Mapped[float | None] = mapped_column(Float, nullable=True)


class QuarterlyPrediction(_PredictionColumns, Base):
    """A scored quarterly statement; the quarter is one of Q1..Q4."""

    __tablename__ = "quarterly_predictions"
    kind = "quarterly"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "reporting_year", "reporting_quarter", name="uq_quarterly_company_period"
        ),
        UniqueConstraint("job_id", "row_number", name="uq_quarterly_job_row"),
        CheckConstraint("reporting_quarter IN ('Q1', 'Q2', 'Q3', 'Q4')", name="quarter"),
        Index("ix_quarterly_org_created", "organization_id", "created_at"),
        ForeignKeyConstraint(
            ["company_id", "organization_id"],
            ["companies.id", "companies.organization_id"],
            name="fk_quarterly_predictions_company_org",
            ondelete="CASCADE",
        ),
    )

    reporting_quarter: Mapped[str] = mapped_column(String(2))
    total_debt_to_ebitda: Mapped[float | None] = mapped_column(Float, nullable=True)
    sga_margin: Mapped[float | None] = mapped_column(Float, nullable=True)
    long_term_debt_to_total_capital: Mapped[float | None] = mapped_column(Float, nullable=True)
    return_on_capital: Mapped[float | None] = mapped_column(Float, nullable=True)


class RefreshToken(Base):
    """One refresh token of a login session (family); only its sha256 is stored."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RevokedToken(Base):
    """A revoked access token (``jti:…``) or login session (``sid:…``), kept until it expires.

    The durable copy of the revocation flags kept in Redis: a revocation made while Redis was
    unreachable is replayed to it from here when it returns.
    """

    __tablename__ = "revoked_tokens"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_JOB_STATUSES = ("queued", "running")


class Job(_Audited, Base):
    """A bulk upload: its file in the blob store, its progress and its outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("kind IN ('annual', 'quarterly')", name="kind"),
        CheckConstraint("on_conflict IN ('skip', 'replace')", name="on_conflict"),
        CheckConstraint("percent IN ('fraction', 'points')", name="percent"),
        Index("ix_jobs_org_created", "organization_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[uuid.UUID | None] = _created_by()
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    kind: Mapped[str] = mapped_column(String(16))
    on_conflict: Mapped[str] = mapped_column(String(8), default="skip")
    file_name: Mapped[str] = mapped_column(String(255))
    file_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sheet: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The period of every row when the file has no such column (given with the upload).
    reporting_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reporting_quarter: Mapped[str | None] = mapped_column(String(2), nullable=True)
    blob_key: Mapped[str] = mapped_column(String(500))
    decimal_comma: Mapped[bool] = mapped_column(Boolean, default=False)
    # Percentage ratios: "fraction" or "points" as the uploader said (None: checked on the
    # first batch), the ratios then multiplied by 100, and the warnings of the check.
    percent: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # How to read the file, as bulk-score's --header-row and --map: Excel's header row, and
    # header -> ratio name.
    header_row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    column_map: Mapped[dict[str, str] | None] = mapped_column(JSONType, nullable=True)
    to_points: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    warnings: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    rows_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    rows_stored: Mapped[int] = mapped_column(Integer, default=0)
    rows_replaced: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_conflicting: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobChunk(Base):
    """One slice of a job's rows; ``done`` commits together with the slice's predictions."""

    __tablename__ = "job_chunks"
    __table_args__ = (UniqueConstraint("job_id", "number", name="uq_job_chunks_job_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    first_row: Mapped[int] = mapped_column(Integer)  # 1-based input row number
    rows: Mapped[int] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApiKey(Base):
    """An organization's API key for scripts; only the sha256 of the secret is stored.

    Revoked keys are kept (``revoked_at``) so the audit trail of who made and used them stays.
    """

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
