"""prediction tables written by bulk jobs: one composite foreign key, no redundant indexes

Each prediction row used to fire four foreign-key checks (organization, company, author, job)
and update seven indexes; a million-row job spent most of its time there. Now:

- one foreign key, (company_id, organization_id) -> companies (id, organization_id): the
  company check, and a prediction's organization is its company's (tenant integrity in the
  schema); deleting an organization still removes its predictions through its companies;
- created_by and job_id are plain columns: users are never deleted (they are deactivated),
  and deleting a job clears its predictions' job_id in the same transaction;
- the indexes on organization_id and company_id alone are gone (the (organization_id,
  created_at) index and the (company_id, period) unique constraint lead with them), and the
  index on risk_level, which spanned every organization, is gone too.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("annual_predictions", "quarterly_predictions")
# The foreign keys 0005 removes: (column, referred table, on delete).
OLD_KEYS = (
    ("organization_id", "organizations", "CASCADE"),
    ("company_id", "companies", "CASCADE"),
    ("created_by", "users", "SET NULL"),
    ("job_id", "jobs", "SET NULL"),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("companies") as batch:
        batch.create_unique_constraint(op.f("uq_companies_id_org"), ["id", "organization_id"])
    for table in TABLES:
        for column in ("organization_id", "company_id", "risk_level"):
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        with op.batch_alter_table(table) as batch:
            for column, target, _ in OLD_KEYS:
                batch.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), type_="foreignkey")
            batch.create_foreign_key(
                op.f(f"fk_{table}_company_org"),
                "companies",
                ["company_id", "organization_id"],
                ["id", "organization_id"],
                ondelete="CASCADE",
            )


def downgrade() -> None:
    """Downgrade schema."""
    for table in TABLES:
        # job_id pointed at jobs under a foreign key before: clear ids of deleted jobs.
        op.execute(
            f"UPDATE {table} SET job_id = NULL WHERE job_id IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM jobs j WHERE j.id = {table}.job_id)"
        )
        op.execute(
            f"UPDATE {table} SET created_by = NULL WHERE created_by IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM users u WHERE u.id = {table}.created_by)"
        )
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"fk_{table}_company_org"), type_="foreignkey")
            for column, target, ondelete in OLD_KEYS:
                batch.create_foreign_key(
                    op.f(f"fk_{table}_{column}_{target}"),
                    target,
                    [column],
                    ["id"],
                    ondelete=ondelete,
                )
        for column in ("organization_id", "company_id", "risk_level"):
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    with op.batch_alter_table("companies") as batch:
        batch.drop_constraint(op.f("uq_companies_id_org"), type_="unique")
