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
from dbservers import create_pg_database, drop_pg_database

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
