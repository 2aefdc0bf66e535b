"""Test database servers: a fresh PostgreSQL database, emptying it, CI=true strictness.

PostgreSQL and Redis are those of ACCUNODE_TEST_POSTGRES_URL / ACCUNODE_TEST_REDIS_URL (default:
the local servers). With CI=true a missing server fails the run; elsewhere its tests are skipped.
Shared by tests/storage and tests/server (which puts this folder on sys.path).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from accunode_cli.storage.db import Base

PG_ADMIN_URL = os.environ.get(
    "ACCUNODE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ACCUNODE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, exc: BaseException) -> None:
    """Fail under CI=true, skip elsewhere, when a required server is missing."""
    reason = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires {reason}")
    pytest.skip(reason)


def create_pg_database() -> str:
    """Create an empty PostgreSQL database and return its URL."""
    name = f"accunode_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        unavailable("PostgreSQL", exc)
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(engine: Engine) -> None:
    """Empty every table (PostgreSQL: one TRUNCATE)."""
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database shared by the session (emptied before each test)."""
    from accunode_cli.storage.db import make_engine
    from accunode_cli.storage.migrate import upgrade_database

    url = create_pg_database()
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    yield url
    drop_pg_database(url)
