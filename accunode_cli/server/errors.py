"""One error envelope for every 4xx and 5xx; stack traces and exception text stay in the log."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from accunode_cli.errors import (
    AccuNodeError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
)
from accunode_cli.logs import request_id_var

__all__ = ["install_error_handlers", "envelope_response", "internal_error_response"]

log = logging.getLogger("accunode.server")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def envelope_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, **kw: Any
) -> JSONResponse:
    """Return the error envelope as a JSON response."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, **kw)


def internal_error_response() -> JSONResponse:
    """Return the 500 envelope: the request id lets operators find the traceback in the log."""
    return envelope_response(
        500,
        "internal_error",
        "an internal error occurred; quote the request id when reporting it",
        {"request_id": request_id_var.get()},
    )


def _accunode_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccuNodeError)
    headers: dict[str, str] = {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.http_status == 429 and "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    if exc.http_status >= 500:
        log.error(
            "request failed", extra={"error_code": exc.code, "error_type": type(exc).__name__}
        )
    return JSONResponse(exc.to_envelope(), status_code=exc.http_status, headers=headers or None)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        for error in exc.errors()
    ]  # the submitted values are not echoed: they may hold passwords
    return envelope_response(422, "invalid_input", "the request is not valid", {"fields": fields})


def _allowed_methods(request: Request) -> str:
    # From the OpenAPI paths: included routers are nested, the schema lists every operation.
    import re

    methods: set[str] = set()
    exact: set[str] = set()  # a literal path (…/what-if) wins over a template ({prediction_id})
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if template == request.url.path:
            exact |= {method.upper() for method in operations}
        elif re.match(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    methods = exact or methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not just the first route's
        headers["Allow"] = _allowed_methods(request)
    return envelope_response(exc.status_code, code, message, headers=headers or None)


def _database_error(_: Request, exc: Exception) -> JSONResponse:
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    if isinstance(exc, DataError):  # a value the database cannot hold (a NUL byte, say)
        log.info("value refused by the database", extra={"error_type": type(exc).__name__})
        return envelope_response(422, "invalid_input", "a value in the request cannot be stored")
    # A concurrent request changed what this one relied on; a retry gets the new state.
    if isinstance(exc, StaleDataError):  # the row was deleted under an update or delete
        log.info("row deleted concurrently", extra={"error_type": type(exc).__name__})
        return _accunode_error(_, NotFoundError("not found: it was deleted by another request"))
    if isinstance(exc, IntegrityError):
        log.info("constraint refused a write", extra={"error_type": type(exc).__name__})
        if _is_foreign_key_violation(exc):  # what it refers to was deleted meanwhile
            return _accunode_error(
                _, NotFoundError("not found: what this refers to was deleted by another request")
            )
        return _accunode_error(_, ConflictError("the request conflicts with a concurrent change"))

    if isinstance(exc, DBAPIError) and exc.connection_invalidated or _is_unreachable(exc):
        log.error("database unavailable", extra={"error_type": type(exc).__name__})
        return _accunode_error(_, ServiceUnavailableError("the database is not available"))
    log.error("database error", exc_info=exc)
    return internal_error_response()


def _is_foreign_key_violation(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint" in str(orig)


def _is_unreachable(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    # PoolTimeoutError: every pooled connection stayed busy past the checkout timeout. The
    # chain is followed: a connection lost mid-transaction resurfaces as PendingRollbackError.
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OperationalError | InterfaceError | PoolTimeoutError):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def install_error_handlers(app: FastAPI) -> None:
    """Register the envelope for our errors, validation, HTTP errors and database failures."""
    from sqlalchemy.exc import SQLAlchemyError

    app.add_exception_handler(AccuNodeError, _accunode_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
