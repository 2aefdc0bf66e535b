"""Fixtures for storage tests: a migrated database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dbservers import pg_url, truncate_all  # noqa: F401  (pg_url is a shared fixture)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from accunode_cli.storage.db import make_engine, make_session_factory
from accunode_cli.storage.migrate import upgrade_database

__all__ = ["pg_url"]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "accunode.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        engine.dispose()
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction the test commits or abandons."""
    factory = make_session_factory(engine)
    with factory() as session:
        yield session
