"""Helpers of the remote CLI tests: the server stack, a CLI result, the real script."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "server"))
sys.path.insert(0, str(HERE.parent / "storage"))

from api_helpers import ACCUNODE, PASSWORD, TEST_SECRET, Server, clean_env  # noqa: E402
from dbservers import REDIS_URL, create_pg_database, drop_pg_database, unavailable  # noqa: E402


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


def redis_ok() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)


@dataclass
class Result:
    """What a CLI run gave."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


def run_process(
    args: list[str], *, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real `accunode` script."""
    return subprocess.run(
        [ACCUNODE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


__all__ = [
    "Stack",
    "Result",
    "run_process",
    "redis_ok",
    "PASSWORD",
    "TEST_SECRET",
    "REDIS_URL",
    "ACCUNODE",
    "Server",
    "clean_env",
    "create_pg_database",
    "drop_pg_database",
]
