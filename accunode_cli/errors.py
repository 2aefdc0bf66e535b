"""The one error tree of AccuNode.

Every failure a user can see is one of these. Each class carries a stable ``code`` (the API's
``error.code`` and the CLI's JSON ``error.code``), the CLI ``exit_code`` and the ``http_status``.
Third-party exceptions are translated into these once, at the boundary, with ``raise ... from``.

    AccuNodeError                      internal_error       exit 1  HTTP 500
    ├── UsageError                     bad_usage            exit 2  HTTP 400
    │   ├── InputError                 invalid_input        exit 2  HTTP 422
    │   │   ├── UnreadableFileError    unreadable_file      exit 2  HTTP 422
    │   │   └── ColumnError            bad_columns          exit 2  HTTP 422
    │   └── PayloadTooLargeError       payload_too_large    exit 2  HTTP 413
    ├── ConfigError                    config_error         exit 2  HTTP 500
    ├── ModelError                     model_error          exit 1  HTTP 500
    │   └── ArtifactIntegrityError     artifact_integrity   exit 1  HTTP 500
    ├── AuthError                      unauthorized         exit 1  HTTP 401
    │   └── LoginRequiredError         login_required       exit 4  HTTP 401
    ├── PermissionDeniedError          forbidden            exit 1  HTTP 403
    ├── NotFoundError                  not_found            exit 1  HTTP 404
    ├── ConflictError                  conflict             exit 1  HTTP 409
    ├── RateLimitedError               rate_limited         exit 1  HTTP 429
    ├── ServiceUnavailableError        service_unavailable  exit 1  HTTP 503
    └── RemoteError                    remote_error         exit 1  HTTP 502
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccuNodeError",
    "UsageError",
    "InputError",
    "UnreadableFileError",
    "ColumnError",
    "PayloadTooLargeError",
    "ConfigError",
    "ModelError",
    "ArtifactIntegrityError",
    "AuthError",
    "LoginRequiredError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "RemoteError",
    "all_error_classes",
]


class AccuNodeError(Exception):
    """Base of every error AccuNode reports to a user."""

    code: ClassVar[str] = "internal_error"
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_envelope(self) -> dict[str, Any]:
        """Return the error envelope shared by the CLI's JSON mode and the API."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class UsageError(AccuNodeError):
    """The command or request was used wrongly (bad option, bad value)."""

    code = "bad_usage"
    exit_code = 2
    http_status = 400


class InputError(UsageError):
    """The input data cannot be used as given."""

    code = "invalid_input"
    http_status = 422


class UnreadableFileError(InputError):
    """An input file is missing, empty, binary, truncated or of an unknown format."""

    code = "unreadable_file"


class ColumnError(InputError):
    """Required columns are missing, duplicated or ambiguous."""

    code = "bad_columns"


class PayloadTooLargeError(UsageError):
    """An upload or request body is larger than the configured limit."""

    code = "payload_too_large"
    http_status = 413


class ConfigError(AccuNodeError):
    """The configuration is invalid or unsafe for the chosen environment."""

    code = "config_error"
    exit_code = 2


class ModelError(AccuNodeError):
    """A model could not be loaded, trained or evaluated."""

    code = "model_error"


class ArtifactIntegrityError(ModelError):
    """A model artifact is missing or does not match its manifest hash."""

    code = "artifact_integrity"


class AuthError(AccuNodeError):
    """Authentication failed or is missing."""

    code = "unauthorized"
    http_status = 401


class LoginRequiredError(AuthError):
    """A remote command needs a login: none saved, or the credential is expired or revoked."""

    code = "login_required"
    exit_code = 4


class PermissionDeniedError(AccuNodeError):
    """The caller is authenticated but its role does not allow the action."""

    code = "forbidden"
    http_status = 403


class NotFoundError(AccuNodeError):
    """The resource does not exist (or belongs to another organization)."""

    code = "not_found"
    http_status = 404


class ConflictError(AccuNodeError):
    """The resource already exists or the change conflicts with the current state."""

    code = "conflict"
    http_status = 409


class RateLimitedError(AccuNodeError):
    """Too many requests; retry after ``details['retry_after']`` seconds."""

    code = "rate_limited"
    http_status = 429


class ServiceUnavailableError(AccuNodeError):
    """A dependency (database, Redis, models) is not available."""

    code = "service_unavailable"
    http_status = 503


class RemoteError(AccuNodeError):
    """The AccuNode server answered with an error or could not be reached."""

    code = "remote_error"
    http_status = 502


def all_error_classes() -> list[type[AccuNodeError]]:
    """Return every error class of the tree, the root first."""
    found: list[type[AccuNodeError]] = []
    stack: list[type[AccuNodeError]] = [AccuNodeError]
    while stack:
        cls = stack.pop(0)
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
