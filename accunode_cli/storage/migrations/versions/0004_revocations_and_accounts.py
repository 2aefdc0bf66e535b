"""revoked tokens kept in the database; emails kept as given with a case-folded key

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "revoked_tokens",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"], unique=False
    )

    # Emails were stored case-folded until now, so each one is its own key.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_key", sa.String(length=320), nullable=True))
    op.execute("UPDATE users SET email_key = email")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email_key", existing_type=sa.String(length=320), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_email_key"), ["email_key"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_email_key"), type_="unique")
        batch.drop_column("email_key")
    op.drop_index(op.f("ix_revoked_tokens_expires_at"), table_name="revoked_tokens")
    op.drop_table("revoked_tokens")
