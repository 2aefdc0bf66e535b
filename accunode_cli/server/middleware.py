"""One ASGI middleware for request ids, security headers, the body limit and the access log."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accunode_cli.logs import request_id_var
from accunode_cli.server.security import client_ip

__all__ = ["RequestContextMiddleware"]

log = logging.getLogger("accunode.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# A NUL character, escaped in JSON (an odd number of backslashes before u0000) or in a URL.
# PostgreSQL cannot store one and SQLite would: both backends refuse it here, alike.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_MESSAGE = "text must not contain NUL characters (\\u0000)"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _envelope(status: int, code: str, message: str, request_id: str) -> list[Message]:
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        *_SECURITY_HEADERS,
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


class RequestContextMiddleware:
    """Tag each request with an id, limit its body, add security headers and log it once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        trusted_proxies: list[str],
        max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # File uploads (paths ending in /bulk-upload) may be larger; they stream to disk.
        self.max_upload_bytes = max_upload_bytes or max_body_bytes
        self.trusted_proxies = trusted_proxies

    def _is_https(self, scope: Scope, peer: str | None) -> bool:
        if scope.get("scheme") == "https":
            return True
        if _header(scope, b"x-forwarded-proto") != "https":
            return False
        return client_ip(peer, "203.0.113.1", self.trusted_proxies) != peer  # a trusted proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        peer = scope["client"][0] if scope.get("client") else None
        extra_headers = [(b"x-request-id", request_id.encode()), *_SECURITY_HEADERS]
        if self._is_https(scope, peer):
            extra_headers.append(_HSTS)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        try:
            limit = self._limit(scope)
            declared = _header(scope, b"content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                status["code"] = 413
                refusal = _envelope(413, "payload_too_large", self._too_large(limit), request_id)
                for message in refusal:
                    await send(message)
                return
            await self._run(scope, receive, send, extra_headers, status)
        finally:
            if log.isEnabledFor(logging.INFO):
                self._log(scope, peer, status["code"], started)
            request_id_var.reset(token)

    def _log(self, scope: Scope, peer: str | None, code: int, started: float) -> None:
        log.info(
            "request",
            extra={
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_ip": client_ip(
                    peer, _header(scope, b"x-forwarded-for"), self.trusted_proxies
                ),
            },
        )

    def _limit(self, scope: Scope) -> int:
        path = str(scope.get("path", ""))
        return self.max_upload_bytes if path.endswith("/bulk-upload") else self.max_body_bytes

    def _too_large(self, limit: int) -> str:
        return f"the request body is larger than {limit} bytes"

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, extra: list[Any], status: dict[str, Any]
    ) -> None:
        received = 0
        limit = self._limit(scope)
        is_json = "json" in (_header(scope, b"content-type") or "")
        tail = b""
        raise_nul = b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")

        async def limited_receive() -> Message:
            nonlocal received, tail
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    # an HTTPException passes FastAPI's body parsing untouched (others become 400)
                    raise HTTPException(413, self._too_large(limit))
                if is_json and _NUL_ESCAPE.search(tail + body):
                    raise HTTPException(422, _NUL_MESSAGE)
                tail = (tail + body)[-32:]
            return message

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            if raise_nul:
                raise HTTPException(422, _NUL_MESSAGE)
            await self.app(scope, limited_receive, tagged_send)
        except HTTPException as exc:  # raised by limited_receive outside any route
            if status["sent"]:
                raise
            status["code"] = exc.status_code
            code = "payload_too_large" if exc.status_code == 413 else "invalid_input"
            for part in _envelope(exc.status_code, code, exc.detail, request_id_var.get()):
                await send(part)
        except Exception:
            logging.getLogger("accunode.server").exception("unhandled error")
            if status["sent"]:
                raise
            status["code"] = 500
            request_id = request_id_var.get()
            message = "an internal error occurred; quote the request id when reporting it"
            for part in _envelope(500, "internal_error", message, request_id):
                await send(part)
