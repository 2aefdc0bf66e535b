"""Apply the Alembic migrations shipped inside the package (works from an installed wheel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from accunode_cli.errors import ServiceUnavailableError, UsageError

__all__ = [
    "alembic_config",
    "upgrade_database",
    "downgrade_database",
    "check_revision",
    "current_revision",
    "head_revision",
]

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 7_461_203  # any fixed number: serialises concurrent upgrades on PostgreSQL


def alembic_config(url: str) -> object:
    """Return an Alembic Config pointing at the packaged migrations and ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``; safe to run from many processes."""
    _migrate(engine, "upgrade", revision)


def downgrade_database(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (an id, ``base`` or ``-N``); drops what it undoes."""
    _migrate(engine, "downgrade", revision)


def check_revision(revision: str) -> None:
    """Raise a UsageError naming the shipped revisions when ``revision`` is not one of them."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision in ("head", "heads", "base") or revision[:1] in "+-":
        return  # relative steps are checked against the database by Alembic
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))  # type: ignore[arg-type]
    try:
        script.get_revision(revision)
    except CommandError as exc:
        known = ", ".join(r.revision for r in reversed(list(script.walk_revisions())))
        raise UsageError(
            f"unknown revision {revision!r}; the shipped revisions are {known} (or head, base, -1)",
            details={"revision": revision},
        ) from exc


def _migrate(engine: Engine, operation: str, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy.exc import OperationalError

    check_revision(revision)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # see _sqlite_foreign_keys
                _sqlite_foreign_keys(connection, on=False)
            try:
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY}
                        )
                    config.attributes["connection"] = connection  # type: ignore[attr-defined]
                    getattr(command, operation)(config, revision)
                    if sqlite:
                        _sqlite_check_keys(connection)
            finally:
                if sqlite:
                    _sqlite_foreign_keys(connection, on=True)
    except CommandError as exc:  # a relative step past base, or a database ahead of this code
        raise UsageError(f"cannot {operation} to {revision!r}: {exc}") from exc
    except OperationalError as exc:
        raise ServiceUnavailableError(
            "the database cannot be reached to apply migrations",
            details={"database": engine.url.render_as_string(hide_password=True)},
        ) from exc


def _sqlite_foreign_keys(connection: Any, *, on: bool) -> None:
    """Turn SQLite's foreign keys off for a migration, and back on after it.

    SQLite alters a table by copying it and dropping the original; with foreign keys on, that
    drop runs every ``ON DELETE CASCADE`` into the table (rebuilding ``users`` would delete
    their memberships and personal organizations with all their predictions). The pragma
    only takes effect outside a transaction, so it is set before the migration's begins.
    """
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _sqlite_check_keys(connection: Any) -> None:
    """Refuse (roll back) a migration that left a row pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, _, parent, _ = broken[0]
        raise UsageError(
            f"the migration would leave {len(broken)} rows of {table} pointing at missing "
            f"{parent} rows; nothing was changed",
            details={"table": table, "parent": parent},
        )


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise ServiceUnavailableError(
            "the database cannot be reached",
            details={"database": engine.url.render_as_string(hide_password=True)},
        ) from exc


def head_revision() -> str | None:
    """Return the newest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()  # type: ignore[arg-type]
