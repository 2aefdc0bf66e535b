"""predictions' contributions as a float array in the kind's ratio order on PostgreSQL

The JSONB object repeated the ratio names in every row: a third of the row's size and about
a tenth of the database's time per stored prediction (docs/benchmarks.md). The values move
exactly (JSON numbers were written as the shortest text of each double). SQLite keeps JSON.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:00:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds' ratios in model order, as of this revision (a later change of the models'
# ratios needs its own migration).
_RATIOS = {
    "annual_predictions": (
        "long_term_debt_to_total_capital",
        "total_debt_to_ebitda",
        "net_income_margin",
        "ebit_to_interest_expense",
        "return_on_assets",
    ),
    "quarterly_predictions": (
        "total_debt_to_ebitda",
        "sga_margin",
        "long_term_debt_to_total_capital",
        "return_on_capital",
    ),
}


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, names in _RATIOS.items():
        values = ", ".join(f"(contributions ->> '{name}')::double precision" for name in names)
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN contributions TYPE double precision[] "
            f"USING ARRAY[{values}]"
        )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, names in _RATIOS.items():
        pairs = ", ".join(f"'{name}', contributions[{i}]" for i, name in enumerate(names, 1))
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN contributions TYPE jsonb "
            f"USING jsonb_build_object({pairs})"
        )
