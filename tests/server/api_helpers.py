"""Plain helper functions of the API tests: register and log in users, build request bodies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx

with warnings.catch_warnings():  # starlette asks for httpx2; httpx works the same here
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
TEST_SECRET = "t" * 48
API = "/api/v1"

__all__ = ["TestClient"]

ACCUNODE = str(Path(sys.executable).parent / "accunode")


def free_port() -> int:
    """Return a TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    """Return this environment without ACCUNODE_* variables, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    env.update(values)
    return env


class Server:
    """One `accunode serve` process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [ACCUNODE, "serve", "--port", str(self.port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def auth_headers(tokens: dict[str, Any], organization_id: str | None = None) -> dict[str, str]:
    """Return the headers of an authenticated request (in an organization when given)."""
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    if organization_id:
        headers["X-Organization-ID"] = organization_id
    return headers


def register(client: Any, email: str | None = None, **extra: Any) -> dict[str, Any]:
    """Register and log in a user; return its user, tokens, headers and personal organization."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Test User", **extra}
    created = client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201, created.text
    tokens = login(client, email)
    headers = auth_headers(tokens)
    organizations = client.get("/api/v1/users/organizations", headers=headers).json()
    return {
        "user": created.json(),
        "email": email,
        "tokens": tokens,
        "headers": headers,
        "org_id": organizations[0]["id"],
    }


def login(client: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in and return the token pair."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def annual_body(**overrides: Any) -> dict[str, Any]:
    """A valid annual prediction request."""
    body: dict[str, Any] = {
        "company_symbol": "ACME",
        "company_name": "Acme Corp",
        "reporting_year": 2024,
        "long_term_debt_to_total_capital": 35.0,
        "total_debt_to_ebitda": 2.1,
        "net_income_margin": 8.5,
        "ebit_to_interest_expense": 9.2,
        "return_on_assets": 6.1,
    }
    body.update(overrides)
    return body


def quarterly_body(**overrides: Any) -> dict[str, Any]:
    """A valid quarterly prediction request."""
    body: dict[str, Any] = {
        "company_symbol": "ACME",
        "company_name": "Acme Corp",
        "reporting_year": 2024,
        "reporting_quarter": "Q2",
        "total_debt_to_ebitda": 2.4,
        "sga_margin": 18.0,
        "long_term_debt_to_total_capital": 38.0,
        "return_on_capital": 7.5,
    }
    body.update(overrides)
    return body
