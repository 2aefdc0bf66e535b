"""bulk-upload jobs: jobs, job chunks, and (job, row) on predictions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 19:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREDICTIONS = {
    "annual_predictions": "uq_annual_job_row",
    "quarterly_predictions": "uq_quarterly_job_row",
}


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("on_conflict", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("reporting_year", sa.Integer(), nullable=True),
        sa.Column("reporting_quarter", sa.String(length=2), nullable=True),
        sa.Column("blob_key", sa.String(length=500), nullable=False),
        sa.Column("decimal_comma", sa.Boolean(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_processed", sa.Integer(), nullable=False),
        sa.Column("rows_stored", sa.Integer(), nullable=False),
        sa.Column("rows_replaced", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_conflicting", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=True),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_jobs_status"),
        ),
        sa.CheckConstraint("kind IN ('annual', 'quarterly')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint("on_conflict IN ('skip', 'replace')", name=op.f("ck_jobs_on_conflict")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_jobs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_jobs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_org_created", ["organization_id", "created_at"])
        batch_op.create_index(batch_op.f("ix_jobs_organization_id"), ["organization_id"])
        batch_op.create_index(batch_op.f("ix_jobs_status"), ["status"])
    op.create_table(
        "job_chunks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_chunks_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_chunks")),
        sa.UniqueConstraint("job_id", "number", name="uq_job_chunks_job_number"),
    )
    for table, unique in _PREDICTIONS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("job_id", sa.Uuid(), nullable=True))
            batch_op.add_column(sa.Column("row_number", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_job_id_jobs"),
                "jobs",
                ["job_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch_op.create_unique_constraint(unique, ["job_id", "row_number"])


def downgrade() -> None:
    """Downgrade schema."""
    for table, unique in _PREDICTIONS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(unique, type_="unique")
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_job_id_jobs"), type_="foreignkey")
            batch_op.drop_column("row_number")
            batch_op.drop_column("job_id")
    op.drop_table("job_chunks")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_organization_id"))
        batch_op.drop_index("ix_jobs_org_created")
    op.drop_table("jobs")
