"""Apply the Alembic migrations shipped inside the package (works from an installed wheel)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from accunode_cli.errors import ServiceUnavailableError

__all__ = ["alembic_config", "upgrade_database", "current_revision", "head_revision"]

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
    from alembic import command
    from sqlalchemy.exc import OperationalError

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            config.attributes["connection"] = connection  # type: ignore[attr-defined]
            command.upgrade(config, revision)  # type: ignore[arg-type]
    except OperationalError as exc:
        raise ServiceUnavailableError(
            "the database cannot be reached to apply migrations",
            details={"database": engine.url.render_as_string(hide_password=True)},
        ) from exc


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
