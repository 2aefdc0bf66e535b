"""on PostgreSQL, a prediction's company is checked once per statement, not once per row

The foreign key (company_id, organization_id) -> companies ran one locked lookup per stored
prediction: 40 % of the database's time to store a bulk job's rows (docs/benchmarks.md).
Statement-level triggers do the same work once per statement, on the set of rows it wrote:
- after an INSERT of predictions, every company the rows name is locked FOR KEY SHARE (as the
  foreign key does) and must exist in the prediction's organization, else the statement
  fails with SQLSTATE 23503 (foreign_key_violation);
- a prediction's company and organization cannot change (nothing changes them; an update
  of other columns takes no lock on the company, as with the foreign key, so it cannot
  deadlock with the company's deletion);
- after a DELETE of companies (a route, or an organization's cascade), their predictions are
  deleted in a new statement, which sees every prediction committed by then: a transaction
  that had locked the company finished first, and one that locks it later finds it gone;
- a company's id and organization cannot change.
SQLite keeps the foreign key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:20:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = {"annual_predictions": "annual", "quarterly_predictions": "quarterly"}

_CHECK = """
CREATE FUNCTION accunode_prediction_companies() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named bigint;
    locked bigint;
BEGIN
    SELECT count(*) INTO named
      FROM (SELECT DISTINCT company_id, organization_id FROM new_rows) AS pairs;
    SELECT count(*) INTO locked
      FROM (SELECT 1 FROM companies c
             WHERE (c.id, c.organization_id) IN
                   (SELECT company_id, organization_id FROM new_rows)
               FOR KEY SHARE OF c) AS found;
    IF locked < named THEN
        RAISE EXCEPTION 'a prediction names a company that is not in its organization'
            USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$
"""

_CASCADE = """
CREATE FUNCTION accunode_delete_company_predictions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM annual_predictions p USING old_rows o WHERE p.company_id = o.id;
    DELETE FROM quarterly_predictions p USING old_rows o WHERE p.company_id = o.id;
    RETURN NULL;
END
$$
"""

_FIXED_KEYS = """
CREATE FUNCTION accunode_keys_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed boolean;
BEGIN
    IF TG_TABLE_NAME = 'companies' THEN
        changed := (NEW.id, NEW.organization_id) IS DISTINCT FROM (OLD.id, OLD.organization_id);
    ELSE
        changed := (NEW.company_id, NEW.organization_id)
                   IS DISTINCT FROM (OLD.company_id, OLD.organization_id);
    END IF;
    IF changed THEN
        RAISE EXCEPTION '% cannot change the company or organization a row belongs to',
            TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_CHECK)
    op.execute(_CASCADE)
    op.execute(_FIXED_KEYS)
    for table, kind in _TABLES.items():
        op.drop_constraint(f"fk_{table}_company_org", table, type_="foreignkey")
        op.execute(
            f"CREATE TRIGGER {kind}_companies_after_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION accunode_prediction_companies()"
        )
        op.execute(
            f"CREATE TRIGGER {kind}_keys_before_update BEFORE UPDATE OF company_id, "
            f"organization_id ON {table} FOR EACH ROW EXECUTE FUNCTION accunode_keys_fixed()"
        )
    op.execute(
        "CREATE TRIGGER companies_predictions_after_delete AFTER DELETE ON companies "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION accunode_delete_company_predictions()"
    )
    op.execute(
        "CREATE TRIGGER companies_keys_before_update BEFORE UPDATE OF id, organization_id "
        "ON companies FOR EACH ROW EXECUTE FUNCTION accunode_keys_fixed()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER companies_keys_before_update ON companies")
    op.execute("DROP TRIGGER companies_predictions_after_delete ON companies")
    for table, kind in _TABLES.items():
        op.execute(f"DROP TRIGGER {kind}_keys_before_update ON {table}")
        op.execute(f"DROP TRIGGER {kind}_companies_after_insert ON {table}")
        op.create_foreign_key(
            f"fk_{table}_company_org",
            table,
            "companies",
            ["company_id", "organization_id"],
            ["id", "organization_id"],
            ondelete="CASCADE",
        )
    for function in (
        "accunode_keys_fixed",
        "accunode_delete_company_predictions",
        "accunode_prediction_companies",
    ):
        op.execute(f"DROP FUNCTION {function}()")
