"""Remote CLI tests: real `accunode serve` processes, the CLI in-process or as real processes.

Each backend runs two server processes on one database: the embedded SQLite file (no Redis,
each process its own in-process store) and PostgreSQL + Redis. Access tokens live 3 seconds
(ACCUNODE_ACCESS_TOKEN_MINUTES=0.05), so every test also crosses token expiries.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "server"))
sys.path.insert(0, str(HERE.parent / "storage"))

from api_helpers import ACCUNODE, PASSWORD, TEST_SECRET, Server, clean_env  # noqa: E402
from dbservers import REDIS_URL, create_pg_database, drop_pg_database, unavailable  # noqa: E402

from accunode_cli.main import app  # noqa: E402

TOKEN_MINUTES = "0.05"  # 3 s


@dataclass
class Stack:
    """Two server processes sharing one database (and Redis on PostgreSQL)."""

    backend: str
    servers: tuple[Server, Server]
    worker: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.servers[0].url

    def has_jobs(self) -> bool:
        """Return whether the server has the bulk-upload jobs API (issue 9)."""
        schema = httpx.get(f"{self.url}/api/v1/openapi.json", timeout=10).json()
        return "/api/v1/predictions/bulk-upload" in schema["paths"]

    def register(self, email: str | None = None) -> str:
        """Register a user through the API; return the email."""
        email = email or f"cli-{uuid.uuid4().hex[:10]}@example.com"
        answer = httpx.post(
            f"{self.url}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "CLI User"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return email


def _redis_ok() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)


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
        "ACCUNODE_DATA_DIR": str(folder / "data"),
    }
    database = None
    if request.param == "postgres+redis":
        _redis_ok()
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


@dataclass
class Result:
    """What a CLI run gave."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


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


def run_process(
    args: list[str], *, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real `accunode` script."""
    return subprocess.run(
        [ACCUNODE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


__all__ = ["Stack", "Result", "run_process", "PASSWORD", "clean_env"]
