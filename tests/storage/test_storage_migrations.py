"""Migrations: upgrade on an empty database gives exactly the schema the models declare."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from dbservers import create_pg_database, drop_pg_database
from sqlalchemy import inspect

from accunode_cli.storage.db import Base, make_engine
from accunode_cli.storage.migrate import current_revision, head_revision, upgrade_database


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def test_upgrade_on_empty_database_matches_the_models(empty_url: str) -> None:
    engine = make_engine(empty_url)
    assert current_revision(engine) is None
    upgrade_database(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": _declared_for(engine.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    tables = set(inspect(engine).get_table_names())
    assert {"users", "organizations", "memberships", "invitations", "companies"} <= tables
    assert {"annual_predictions", "quarterly_predictions", "refresh_tokens"} <= tables
    upgrade_database(engine)  # idempotent: a second start changes nothing
    engine.dispose()


def _declared_for(dialect: str) -> Any:
    """Autogenerate's filter: the predictions' foreign key to their company exists on SQLite
    only; PostgreSQL checks it with statement-level triggers (migration 0008), which
    autogenerate cannot see."""

    def include(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        return not (
            dialect == "postgresql"
            and type_ == "foreign_key_constraint"
            and not reflected
            and item.table.name in ("annual_predictions", "quarterly_predictions")
            and item.referred_table.name == "companies"
        )

    return include


def test_migrations_ship_inside_the_package() -> None:
    import accunode_cli.storage.migrate as migrate

    versions = migrate._MIGRATIONS / "versions"
    assert (migrate._MIGRATIONS / "env.py").exists()
    assert (migrate._MIGRATIONS / "script.py.mako").exists()
    assert any(path.name.startswith("0001_") for path in versions.glob("*.py"))
