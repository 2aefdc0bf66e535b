"""The HTTP transport of the remote commands: bounded timeouts, retries, one error per failure.

Idempotent requests (GET, HEAD, PUT, DELETE) retry with exponential backoff on connection
errors, 502, 503 and 429 (waiting what ``Retry-After`` asks, when that is short). A POST is
never retried: it may have done its work before the answer was lost. Every failure becomes one
error of ``accunode_cli.errors``, with the server's message when it sent the error envelope.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from accunode_cli.errors import (
    AccuNodeError,
    ConflictError,
    InputError,
    LoginRequiredError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    RemoteError,
    ServiceUnavailableError,
    UsageError,
)

__all__ = ["Transport", "normalise_url", "API_PREFIX", "IDEMPOTENT", "error_from_response"]

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
_RETRY_STATUSES = frozenset({429, 502, 503})
_MAX_RETRY_WAIT = 10.0  # a longer Retry-After is reported, not waited for

_BY_STATUS: dict[int, type[AccuNodeError]] = {
    400: UsageError,
    401: LoginRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InputError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def normalise_url(url: str) -> str:
    """Return the server's base URL without a trailing slash or API prefix; refuse non-HTTP."""
    text = url.strip().rstrip("/")
    if text.endswith(API_PREFIX):
        text = text[: -len(API_PREFIX)]
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise UsageError(
            f"the API URL {url!r} must start with http:// or https:// "
            "(for example http://127.0.0.1:8000)"
        )
    return text


def _timeout() -> httpx.Timeout:
    seconds = float(os.environ.get("ACCUNODE_TIMEOUT", "30"))
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from_response(response: httpx.Response, base_url: str) -> AccuNodeError:
    """Return the error an answer >= 400 stands for (the server's envelope when it sent one)."""
    status = response.status_code
    try:
        body = response.json()
        error = body["error"]
        message, details = str(error["message"]), dict(error.get("details") or {})
    except (ValueError, KeyError, TypeError):
        if status in (404, 405) or "json" not in response.headers.get("content-type", ""):
            return RemoteError(
                f"{base_url} did not answer like an AccuNode server (HTTP {status}); "
                "check --api-url or ACCUNODE_API_URL",
                details={"status": status},
            )
        message, details = response.reason_phrase or "error", {}
    if status == 404 and message == "Not Found":  # no such route: not the API's root URL
        return RemoteError(
            f"{base_url} has no AccuNode API at {API_PREFIX} (HTTP 404); "
            "check --api-url or ACCUNODE_API_URL",
            details={"status": status},
        )
    details.setdefault("status", status)
    request_id = response.headers.get("x-request-id")
    if request_id:
        details.setdefault("request_id", request_id)
    if status == 401:
        details.setdefault("server_message", message)
        return LoginRequiredError(
            f"{message}; run accunode login (or set ACCUNODE_TOKEN)", details=details
        )
    if status == 429:
        wait = _retry_after(response)
        details.setdefault("retry_after", wait)
        hint = f"; retry in {wait:.0f} s" if wait is not None else ""
        return RateLimitedError(f"rate limited by {base_url}: {message}{hint}", details=details)
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(message, details=details)
    suffix = f" (request id {request_id})" if request_id else ""
    return RemoteError(
        f"server error at {base_url} (HTTP {status}): {message}{suffix}", details=details
    )


class Transport:
    """One server's HTTP connection pool with the retry and error rules above."""

    def __init__(self, base_url: str, *, retries: int = 3, backoff: float = 0.5) -> None:
        self.base_url = normalise_url(base_url)
        self.retries = retries
        self.backoff = backoff
        self._client = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            timeout=_timeout(),
            headers={"User-Agent": "accunode-cli"},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connections."""
        self._client.close()

    def _unreachable(self, exc: httpx.HTTPError) -> AccuNodeError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
        return RemoteError(
            f"cannot reach the AccuNode server at {self.base_url} ({kind}); check the URL "
            "(--api-url, ACCUNODE_API_URL) and that the server is running",
            details={"api_url": self.base_url, "reason": type(exc).__name__},
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; return a 2xx answer or raise the error it stands for."""
        retry = method.upper() in IDEMPOTENT
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if retry and attempt < self.retries and not isinstance(exc, httpx.ReadTimeout):
                    attempt += 1
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise self._unreachable(exc) from exc
            if response.status_code < 400:
                return response
            if retry and attempt < self.retries and response.status_code in _RETRY_STATUSES:
                wait = _retry_after(response)
                wait = self.backoff * 2**attempt if wait is None else wait
                if wait <= _MAX_RETRY_WAIT:
                    attempt += 1
                    time.sleep(wait)
                    continue
            raise error_from_response(response, self.base_url)

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Stream an answer's body (downloads); errors as in :meth:`request`, no retries."""
        try:
            with self._client.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_from_response(response, self.base_url)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
