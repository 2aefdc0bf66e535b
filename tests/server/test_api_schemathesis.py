"""Property-based run of every documented operation (schemathesis), authenticated, bounded.

Each operation gets a bounded number of generated requests; every response must be a non-5xx
that matches the OpenAPI schema (status code, content type, headers, body). The same run goes
against the embedded default (SQLite, in-process store) and against PostgreSQL with Redis
(skipped with a reason when those are missing, a failure under CI=true).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_helpers import TEST_SECRET, TestClient, annual_body, quarterly_body, register
from dbservers import PG_ADMIN_URL, REDIS_URL, drop_pg_database, unavailable
from hypothesis import HealthCheck, settings

from accunode_cli.config import Settings
from accunode_cli.server import create_app

MAX_EXAMPLES = int(os.environ.get("ACCUNODE_FUZZ_EXAMPLES", "12"))  # bounded in make test
# The schema's "format: email" is wider than what we accept (email-validator refuses reserved
# domains such as .test), so schema-valid data may rightly be refused with 422.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def _settings(**extra: Any) -> Settings:
    data = Path(tempfile.mkdtemp(prefix="accunode-schemathesis-"))
    return Settings(
        env="test",
        data_dir=data,
        config_dir=data / "config",
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        rate_limit_per_minute=1_000_000,
        login_attempts_per_15_minutes=1_000_000,
        login_attempts_per_address_15_minutes=1_000_000,
        login_account_attempts_per_minute=1_000_000,
        registrations_per_hour=1_000_000,
        **extra,
    )


def _postgres_settings() -> tuple[Settings | None, BaseException | None]:
    """Create a database for the run at import time (schemathesis needs the app to collect)."""
    import redis
    from sqlalchemy import create_engine, text

    name = f"accunode_test_{uuid.uuid4().hex[:12]}"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return None, exc
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    prefix = f"fuzz:{uuid.uuid4().hex}:"
    return _settings(database_url=url, redis_url=REDIS_URL, redis_prefix=prefix), None


SQLITE = _settings()
POSTGRES, POSTGRES_PROBLEM = _postgres_settings()
schema_sqlite = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(SQLITE))
schema_postgres = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(POSTGRES or SQLITE)
)


def _auth(settings_: Settings) -> dict[str, str]:
    """A user with a company and predictions, so ids in the data space sometimes exist."""
    with TestClient(create_app(settings_)) as client:
        account = register(client, email=f"fuzz-{uuid.uuid4().hex[:6]}@example.com")
        headers = account["headers"]
        client.post("/api/v1/predictions/annual", json=annual_body(), headers=headers)
        client.post("/api/v1/predictions/quarterly", json=quarterly_body(), headers=headers)
    return {"Authorization": headers["Authorization"]}


def _check(case: Any, auth: dict[str, str], settings_: Settings) -> None:
    headers = dict(auth)
    if case.path.endswith("/auth/logout") or case.path.endswith("/auth/change-password"):
        # these would end the shared session for every later operation; they get a fresh one
        with TestClient(create_app(settings_)) as client:
            headers = {"Authorization": register(client)["headers"]["Authorization"]}
    case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)


@pytest.fixture(scope="module")
def sqlite_auth() -> dict[str, str]:
    return _auth(SQLITE)


@pytest.fixture(scope="module")
def postgres_auth() -> Iterator[dict[str, str]]:
    if POSTGRES is None:
        unavailable("PostgreSQL and Redis", POSTGRES_PROBLEM or RuntimeError("unknown"))
    assert POSTGRES is not None and POSTGRES.database_url is not None
    yield _auth(POSTGRES)
    drop_pg_database(POSTGRES.database_url)


@schema_sqlite.parametrize()
@HYPOTHESIS
def test_sqlite_no_server_errors_and_responses_match_the_schema(case, sqlite_auth) -> None:
    _check(case, sqlite_auth, SQLITE)


@schema_postgres.parametrize()
@HYPOTHESIS
def test_postgres_no_server_errors_and_responses_match_the_schema(case, postgres_auth) -> None:
    assert POSTGRES is not None
    _check(case, postgres_auth, POSTGRES)
