"""Remote CLI tests: real `accunode serve` processes, the CLI in-process or as real processes.

Each backend runs two server processes on one database: the embedded SQLite file (no Redis,
each process its own in-process store) and PostgreSQL + Redis. Access tokens live 3 seconds
(ACCUNODE_ACCESS_TOKEN_MINUTES=0.05), so every test also crosses token expiries.
"""

from __future__ import annotations

import importlib.util
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remote_helpers import (
    ACCUNODE,
    REDIS_URL,
    TEST_SECRET,
    Result,
    Server,
    Stack,
    clean_env,
    create_pg_database,
    drop_pg_database,
    redis_ok,
)
from typer.testing import CliRunner

from accunode_cli.main import app

TOKEN_MINUTES = "0.05"  # 3 s


@pytest.fixture(scope="session", params=["sqlite", "postgres+redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Start the two servers of a backend once per test session."""
    folder = tmp_path_factory.mktemp(f"stack-{request.param}")
    values = {
        "ACCUNODE_ENV": "test",
        "ACCUNODE_JWT_SECRET": TEST_SECRET,
        "ACCUNODE_BCRYPT_ROUNDS": "4",
        "ACCUNODE_ACCESS_TOKEN_MINUTES": TOKEN_MINUTES,
        "ACCUNODE_RATE_LIMIT_PER_MINUTE": "100000",
        "ACCUNODE_REGISTRATIONS_PER_HOUR": "1000",  # every test registers its own account
        "ACCUNODE_DATA_DIR": str(folder / "data"),
    }
    database = None
    if request.param == "postgres+redis":
        redis_ok()
        database = create_pg_database()
        values |= {
            "ACCUNODE_DATABASE_URL": database,
            "ACCUNODE_REDIS_URL": REDIS_URL,
            "ACCUNODE_REDIS_PREFIX": f"remote:{uuid.uuid4().hex}:",
        }
    env = clean_env(**values)
    first = Server(env, folder / "a.log")
    started = [first]
    worker = None
    try:
        first.wait_ready()  # migrates the database before the second process starts
        second = Server(env, folder / "b.log")
        started.append(second)
        second.wait_ready()
        if database and importlib.util.find_spec("accunode_cli.jobs") is not None:
            # with Redis, bulk-upload jobs run in `accunode worker` processes (issue 9)
            with (folder / "worker.log").open("wb") as sink:
                worker = subprocess.Popen(
                    [ACCUNODE, "worker"], env=env, stdout=sink, stderr=subprocess.STDOUT
                )
        yield Stack(request.param, (first, second), worker)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=40)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for server in started:
            server.stop()
        if database:
            drop_pg_database(database)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """This test's config folder (not created: the CLI creates it 0700)."""
    return tmp_path / "accunode-config"


@pytest.fixture
def cli(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `accunode ARGS` in-process with this test's config folder; return a Result."""
    runner = CliRunner()
    for name in ("ACCUNODE_TOKEN", "ACCUNODE_API_URL", "ACCUNODE_ORG", "ACCUNODE_JSON"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        values = {"ACCUNODE_CONFIG_DIR": str(config_dir), **(env or {})}
        done = runner.invoke(app, list(args), input=input, env=values)
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        return Result(done.exit_code, done.stdout, done.stderr)

    return run
