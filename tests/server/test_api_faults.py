"""Faults: a database that stalls (not refuses) behind a TCP proxy the test freezes with SIGSTOP.

A real `accunode serve` on PostgreSQL through the proxy: while the proxy is frozen, readiness
answers 503 within 6 s, a data route 503 within 12 s, and /health keeps answering 200; when the
proxy resumes, everything works again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from api_helpers import PASSWORD, TEST_SECRET, Server, clean_env
from dbservers import REDIS_URL, create_pg_database, drop_pg_database, unavailable

PROXY = Path(__file__).with_name("tcp_proxy.py")


@pytest.fixture
def proxy() -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    """A TCP proxy (that can be frozen) before a fresh PostgreSQL database: (process, port, url)."""
    database = create_pg_database()
    parts = urlsplit(database)
    process = subprocess.Popen(
        [sys.executable, str(PROXY), parts.hostname or "127.0.0.1", str(parts.port or 5432)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    netloc = f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}"
    try:
        yield process, port, urlunsplit(parts._replace(netloc=netloc))
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait()
        process.stdout.close()
        drop_pg_database(database)


def _timed(method: str, url: str, **kwargs: object) -> tuple[int, float]:
    start = time.monotonic()
    try:
        status = httpx.request(method, url, timeout=30, **kwargs).status_code  # type: ignore[arg-type]
    except httpx.HTTPError:
        status = 0
    return status, time.monotonic() - start


def test_a_stalled_database_answers_503_quickly_and_health_stays_up(proxy, tmp_path: Path) -> None:
    process, _, url = proxy
    env = clean_env(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=url,
        ACCUNODE_JWT_SECRET=TEST_SECRET,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
    )
    server = Server(env, tmp_path / "server.log")
    api = f"{server.url}/api/v1"
    try:
        server.wait_ready()
        email = f"stall-{uuid.uuid4().hex[:8]}@example.com"
        httpx.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD})
        tokens = httpx.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        for _ in range(3):  # pooled connections exist: the stall hits open ones, not new ones
            assert httpx.get(f"{api}/companies", headers=headers).status_code == 200

        os.kill(process.pid, signal.SIGSTOP)
        healthy: list[int] = []
        stop = threading.Event()

        def probe_health() -> None:
            while not stop.is_set():
                healthy.append(_timed("GET", f"{api}/health")[0])
                time.sleep(0.3)

        with ThreadPoolExecutor(8) as pool:
            prober = pool.submit(probe_health)
            readies = [pool.submit(_timed, "GET", f"{api}/health/ready") for _ in range(2)]
            data = [
                pool.submit(_timed, "GET", f"{api}/companies", headers=headers) for _ in range(3)
            ]
            ready_results = [f.result() for f in readies]
            data_results = [f.result() for f in data]
            stop.set()
            prober.result()
        for status, seconds in ready_results:
            assert status == 503 and seconds < 6, ready_results
        for status, seconds in data_results:
            assert status == 503 and seconds < 12, data_results
        assert healthy and set(healthy) == {200}, healthy

        os.kill(process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if httpx.get(f"{api}/health/ready", timeout=10).status_code == 200:
                break
            time.sleep(0.5)
        assert httpx.get(f"{api}/companies", headers=headers, timeout=10).status_code == 200
    finally:
        os.kill(process.pid, signal.SIGCONT)
        server.stop()


def _start_proxy(host: str, port: int, listen: int = 0) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(PROXY), host, str(port), str(listen)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def _stop_proxy(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGCONT)
    process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_a_logout_made_while_redis_is_down_reaches_every_server_when_it_returns(
    tmp_path: Path,
) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    target = urlsplit(REDIS_URL)
    relay, port = _start_proxy(target.hostname or "127.0.0.1", target.port or 6379)
    database = create_pg_database()
    env = clean_env(
        ACCUNODE_ENV="test",
        ACCUNODE_DATABASE_URL=database,
        ACCUNODE_REDIS_URL=f"redis://127.0.0.1:{port}{target.path or '/0'}",
        ACCUNODE_REDIS_PREFIX=f"faults:{uuid.uuid4().hex}:",
        ACCUNODE_JWT_SECRET=TEST_SECRET,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
    )
    a, b = Server(env, tmp_path / "a.log"), Server(env, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
        httpx.post(f"{a.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        pair = httpx.post(
            f"{a.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        assert httpx.get(f"{b.url}/api/v1/companies", headers=headers).status_code == 200

        _stop_proxy(relay)  # Redis is gone for both servers
        out = httpx.post(
            f"{a.url}/api/v1/auth/logout",
            json={"refresh_token": pair["refresh_token"]},
            headers=headers,
            timeout=10,
        )
        assert out.status_code == 200, out.text
        assert httpx.get(f"{a.url}/api/v1/companies", headers=headers).status_code == 401
        relay, _ = _start_proxy(target.hostname or "127.0.0.1", target.port or 6379, port)

        deadline = time.monotonic() + 10
        status = 200
        while time.monotonic() < deadline and status != 401:
            time.sleep(0.5)
            status = httpx.get(f"{b.url}/api/v1/companies", headers=headers, timeout=5).status_code
        assert status == 401, "server B still accepts a token logged out during the outage"
    finally:
        _stop_proxy(relay)
        a.stop()
        b.stop()
        drop_pg_database(database)
