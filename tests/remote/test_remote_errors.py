"""Acceptance 5: server down, wrong URL, 500 and 429 each give one clear line and an exit code.

A real AccuNode server answers the wrong-path case; a small real HTTP server (the standard
library's, on a free port) plays a proxy that answers 500, 503 and 429, so the retry rules are
tested over real sockets: idempotent requests retry (honouring Retry-After), POSTs never do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_helpers import free_port
from remote_helpers import Stack

KEY = "acn_" + "0" * 42  # the format does not matter to a server that never checks it


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next scripted (status, headers, body)."""

    script: list[tuple[int, dict[str, str], str]] = []
    seen: list[str] = []

    def _answer(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self.script.pop(0) if self.script else (200, {}, "{}")
        payload = body.encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def fake() -> Iterator[tuple[str, type[Scripted]]]:
    handler = type("Handler", (Scripted,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _env(url: str, tmp_path: Any) -> dict[str, str]:
    return {"ACCUNODE_API_URL": url, "ACCUNODE_TOKEN": KEY, "ACCUNODE_CONFIG_DIR": str(tmp_path)}


def _one_line(done: Any) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return str(lines[0])


def test_server_down_is_one_line_naming_the_url(cli, tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = cli("company", "list", env=_env(url, tmp_path))
    assert done.exit_code == 1
    line = _one_line(done)
    assert f"cannot reach the AccuNode server at {url}" in line and "ACCUNODE_API_URL" in line
    as_json = cli("company", "list", "--json", env=_env(url, tmp_path))
    assert as_json.exit_code == 1 and as_json.json()["error"]["code"] == "remote_error"
    bad = cli("company", "list", env=_env("localhost:8000", tmp_path))
    assert bad.exit_code == 2 and "must start with http://" in _one_line(bad)


def test_wrong_url_is_one_line(cli, stack: Stack, fake, tmp_path) -> None:
    done = cli("company", "list", env=_env(stack.url + "/wrong", tmp_path))
    assert done.exit_code == 1 and "has no AccuNode API at /api/v1" in _one_line(done)
    url, handler = fake
    handler.script = [(404, {"content-type": "text/html"}, "<h1>nope</h1>")]
    other = cli("company", "list", env=_env(url, tmp_path))
    assert other.exit_code == 1
    assert f"{url} did not answer like an AccuNode server (HTTP 404)" in _one_line(other)


def test_500_is_one_line_with_the_request_id(cli, fake, tmp_path) -> None:
    url, handler = fake
    envelope = {"error": {"code": "internal_error", "message": "boom", "details": {}}}
    handler.script = [(500, {"x-request-id": "req-42"}, json.dumps(envelope))]
    done = cli("company", "list", env=_env(url, tmp_path))
    assert done.exit_code == 1
    line = _one_line(done)
    assert "server error" in line and "HTTP 500" in line and "req-42" in line
    assert len(handler.seen) == 1  # a 500 is not retried


def test_429_waits_for_a_short_retry_after_and_reports_a_long_one(cli, fake, tmp_path) -> None:
    url, handler = fake
    page = json.dumps({"items": [], "total": 0, "page": 1, "size": 20})
    limited = json.dumps({"error": {"code": "rate_limited", "message": "slow down", "details": {}}})
    handler.script = [(429, {"retry-after": "1"}, limited), (503, {}, "{}"), (200, {}, page)]
    done = cli("company", "list", "--json", env=_env(url, tmp_path))
    assert done.exit_code == 0 and done.json()["total"] == 0
    assert len(handler.seen) == 3  # retried twice: after Retry-After, then with backoff
    handler.seen.clear()
    handler.script = [(429, {"retry-after": "120"}, limited)]
    slow = cli("company", "list", env=_env(url, tmp_path))
    assert slow.exit_code == 1 and "rate limited" in _one_line(slow) and "120 s" in slow.stderr
    assert len(handler.seen) == 1


def test_writes_are_not_retried(cli, fake, tmp_path) -> None:
    url, handler = fake
    handler.script = [
        (
            503,
            {},
            json.dumps(
                {"error": {"code": "service_unavailable", "message": "db down", "details": {}}}
            ),
        )
    ]
    done = cli("company", "create", "--symbol", "X", "--name", "X", env=_env(url, tmp_path))
    assert done.exit_code == 1 and "db down" in _one_line(done)
    assert handler.seen == ["POST /api/v1/companies"]
