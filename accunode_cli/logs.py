"""JSON log lines (server and worker) that carry the request id, never a password or token."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["request_id_var", "configure_logging", "JsonFormatter"]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Extra fields our own log calls pass; anything else on a record is not written out.
_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "client_ip",
    "user_id",
    "operation",
    "error_type",
    "error_code",
    "email_to",
    "purpose",
    "verification_token",
    "invitation_token",
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for field in _FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send the ``accunode`` and ``uvicorn`` loggers to stderr as JSON (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    handler.set_name("accunode-json")
    for name in ("accunode", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(h.get_name() == "accunode-json" for h in logger.handlers):
            logger.handlers = [h for h in logger.handlers if h.get_name() != "accunode-json"]
            logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
