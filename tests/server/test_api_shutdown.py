"""SIGTERM to a real `accunode serve` during a stream of requests: nothing in flight fails.

ECS (and compose) stop a task with SIGTERM, then SIGKILL after the stop timeout. The server must
stop accepting, finish every request it has begun, and exit 0 well within that timeout.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from api_helpers import PASSWORD, TEST_SECRET, Server, annual_body, clean_env

from accunode_cli.commands.serve import SHUTDOWN_SECONDS

STREAMS = 4
SLOW_REQUESTS = 3
SLOW_BODY_SECONDS = 2.0  # each slow request is still sending its body when SIGTERM arrives


def _login(server: Server) -> dict[str, str]:
    email = f"shutdown-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD}
    assert httpx.post(f"{server.url}/api/v1/auth/register", json=body).status_code == 201
    tokens = httpx.post(f"{server.url}/api/v1/auth/login", json=body).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _slow_body(started: threading.Event) -> Iterator[bytes]:
    body = httpx.Request("POST", "/", json=annual_body(company_symbol=uuid.uuid4().hex[:12]))
    content = body.read()
    pieces = [content[i : i + 16] for i in range(0, len(content), 16)]
    pause = SLOW_BODY_SECONDS / len(pieces)
    for index, piece in enumerate(pieces):
        yield piece
        if index == 0:
            started.set()
        time.sleep(pause)


def test_sigterm_finishes_every_request_in_flight_and_exits_0(tmp_path: Path) -> None:
    env = clean_env(
        ACCUNODE_ENV="test",
        ACCUNODE_JWT_SECRET=TEST_SECRET,
        ACCUNODE_BCRYPT_ROUNDS="4",
        ACCUNODE_RATE_LIMIT_PER_MINUTE="1000000",
        ACCUNODE_DATA_DIR=str(tmp_path / "data"),
    )
    server = Server(env, tmp_path / "server.log")
    try:
        server.wait_ready()
        headers = _login(server)
        url = f"{server.url}/api/v1/predictions/annual"
        stop = threading.Event()
        sigterm_at: list[float] = []
        # (started, finished, status or the transport error's class name)
        outcomes: list[tuple[float, float, int | str]] = []
        slow: list[int | str] = []

        def stream() -> None:
            with httpx.Client(headers=headers, timeout=30) as client:
                while not stop.is_set():
                    started = time.monotonic()
                    try:
                        body = annual_body(company_symbol=uuid.uuid4().hex[:12])
                        result: int | str = client.post(url, json=body).status_code
                    except httpx.TransportError as error:
                        result = type(error).__name__
                    outcomes.append((started, time.monotonic(), result))
                    if isinstance(result, str):
                        return  # the server is gone for this client

        def slow_request(started: threading.Event) -> None:
            try:
                answer = httpx.post(
                    url,
                    content=_slow_body(started),
                    headers={**headers, "Content-Type": "application/json"},
                    timeout=30,
                )
                slow.append(answer.status_code)
            except httpx.TransportError as error:
                slow.append(type(error).__name__)

        began = [threading.Event() for _ in range(SLOW_REQUESTS)]
        threads = [threading.Thread(target=stream) for _ in range(STREAMS)]
        threads += [threading.Thread(target=slow_request, args=(event,)) for event in began]
        for thread in threads:
            thread.start()
        for event in began:
            assert event.wait(10)
        time.sleep(0.5)  # the streams are going and the slow bodies half sent
        sigterm_at.append(time.monotonic())
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=SHUTDOWN_SECONDS + 20)
        exited_after = time.monotonic() - sigterm_at[0]
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        server.stop()

    log = (tmp_path / "server.log").read_text()
    assert code == 0, log[-2000:]
    assert exited_after < SHUTDOWN_SECONDS + 5, "within the graceful timeout, far below stopTimeout"
    assert slow == [201] * SLOW_REQUESTS, slow
    before = [result for started, _, result in outcomes if started < sigterm_at[0]]
    after = [result for started, _, result in outcomes if started >= sigterm_at[0]]
    assert len(before) > 20, "a real stream of requests was running"
    assert set(before) == {201}, f"a request begun before SIGTERM failed: {set(before)}"
    # Once the server stops accepting, new requests are refused or cut, never answered 5xx.
    assert all(result == 201 or isinstance(result, str) for result in after), set(after)
    assert "Traceback" not in log, log[-2000:]
