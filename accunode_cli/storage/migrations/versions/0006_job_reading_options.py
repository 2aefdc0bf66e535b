"""jobs read files as bulk-score does: percentages as fractions (percent, to_points, warnings),
Excel's header row and a header map (header_row, column_map)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:50:00

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("percent", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("to_points", _json(), nullable=True))
        batch.add_column(sa.Column("warnings", _json(), nullable=True))
        batch.add_column(sa.Column("header_row", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("column_map", _json(), nullable=True))
        batch.create_check_constraint(op.f("ck_jobs_percent"), "percent IN ('fraction', 'points')")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_percent"), type_="check")
        batch.drop_column("column_map")
        batch.drop_column("header_row")
        batch.drop_column("warnings")
        batch.drop_column("to_points")
        batch.drop_column("percent")
