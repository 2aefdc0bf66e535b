"""Fixtures for API tests: the whole app on SQLite (in-process store) and on PostgreSQL + Redis.

Each test gets an empty database: a fresh SQLite file, or the session's migrated PostgreSQL
database truncated, with its own Redis key prefix. With CI=true a missing server fails the run.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "storage"))

from api_helpers import TEST_SECRET, TestClient, annual_body, login, quarterly_body, register  # noqa: E402
from dbservers import (  # noqa: E402, F401  (pg_url is a shared fixture)
    REDIS_URL,
    pg_url,
    truncate_all,
    unavailable,
)

from accunode_cli.config import Settings  # noqa: E402
from accunode_cli.server import create_app  # noqa: E402
from accunode_cli.storage.db import make_engine  # noqa: E402


def _redis_ok() -> None:
    from accunode_cli.errors import ServiceUnavailableError
    from accunode_cli.storage.kv import RedisStore

    store = RedisStore(REDIS_URL)
    try:
        store.ping()
    except ServiceUnavailableError as exc:
        unavailable("Redis", exc)
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings overrides naming an empty database (and Redis) of each backend."""
    if request.param == "sqlite":
        return {}
    _redis_ok()
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    truncate_all(engine)
    engine.dispose()
    return {"database_url": url, "redis_url": REDIS_URL}


@pytest.fixture
def make_settings(backend: dict[str, Any], tmp_path: Path) -> Callable[..., Settings]:
    """Build test settings: fast bcrypt, a fixed secret, this test's database and Redis prefix."""
    prefix = f"test:{uuid.uuid4().hex}:"

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "data",
            "config_dir": tmp_path / "config",
            "jwt_secret": TEST_SECRET,
            "bcrypt_rounds": 4,
            "registrations_per_hour": 100_000,  # tests register many users from one address
            "redis_prefix": prefix,
            **backend,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """The default test settings."""
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process client of a started app."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


__all__ = ["TestClient", "annual_body", "quarterly_body", "register", "login"]
