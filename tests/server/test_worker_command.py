"""`accunode worker --check` for container health checks, and the worker's refusal without Redis."""

from __future__ import annotations

import subprocess
from pathlib import Path

from api_helpers import ACCUNODE, clean_env, free_port
from dbservers import REDIS_URL


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    values = clean_env(ACCUNODE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [ACCUNODE, "worker", *args], env=values, capture_output=True, text=True, timeout=60
    )


def test_check_passes_only_when_database_and_broker_answer(tmp_path: Path, pg_url: str) -> None:
    good = run(tmp_path, "--check", ACCUNODE_DATABASE_URL=pg_url, ACCUNODE_REDIS_URL=REDIS_URL)
    assert good.returncode == 0, good.stderr
    closed = f"redis://127.0.0.1:{free_port()}/0"
    no_broker = run(tmp_path, "--check", ACCUNODE_DATABASE_URL=pg_url, ACCUNODE_REDIS_URL=closed)
    assert no_broker.returncode == 1 and "broker" in no_broker.stderr
    dead_db = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    no_db = run(tmp_path, "--check", ACCUNODE_DATABASE_URL=dead_db, ACCUNODE_REDIS_URL=REDIS_URL)
    assert no_db.returncode == 1 and "database" in no_db.stderr
    assert "Traceback" not in no_db.stderr + no_broker.stderr


def test_the_worker_needs_redis(tmp_path: Path) -> None:
    refused = run(tmp_path)
    assert refused.returncode == 2
    assert "ACCUNODE_REDIS_URL" in refused.stderr and "Traceback" not in refused.stderr


def test_check_fails_on_a_database_that_accepts_and_never_answers(tmp_path: Path) -> None:
    """A health check must end: a server that takes the connection and stays silent (a stalled
    database or proxy) fails the check within its bounds instead of hanging it."""
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = silent.getsockname()[1]
        stalled = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nothing"
        result = run(
            tmp_path, "--check", ACCUNODE_DATABASE_URL=stalled, ACCUNODE_REDIS_URL=REDIS_URL
        )
        assert result.returncode == 1 and "database" in result.stderr  # not killed at 60 s
        assert "Traceback" not in result.stderr
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        silent.close()
