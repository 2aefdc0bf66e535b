"""/health (alive) and /health/ready (database, Redis and models really checked)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from accunode_cli import __version__
from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.server.deps import StateDep
from accunode_cli.server.schemas import ErrorEnvelope

router = APIRouter(prefix="/health", tags=["health"])


class HealthPublic(BaseModel):
    """The process answers."""

    status: Literal["ok"]
    version: str


class ReadyPublic(BaseModel):
    """Every dependency answered; ``checks`` says which were checked."""

    status: Literal["ready"]
    checks: dict[str, str]


@router.get("", response_model=HealthPublic)
def health() -> Any:
    """Answer 200 while the process runs (cheap: touches nothing)."""
    return {"status": "ok", "version": __version__}


def _checks(state: StateDep) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = f"failed: {type(exc).__name__}"
    if state.settings.redis_url:
        try:
            state.store.ping()
            checks["redis"] = "ok"
        except ServiceUnavailableError:
            checks["redis"] = "failed: unreachable"
    else:
        checks["redis"] = "not configured (in-process store)"
    for kind in ("annual", "quarterly"):
        checks[f"model_{kind}"] = (
            state.models[kind].version if kind in state.models else "failed: not loaded"
        )
    return checks


@router.get(
    "/ready",
    response_model=ReadyPublic,
    responses={
        503: {"model": ErrorEnvelope, "description": "A dependency failed; details say which"}
    },
)
def ready(state: StateDep) -> Any:
    """Check the database, Redis (when configured) and the models; 503 names what failed."""
    checks = _checks(state)
    failed = sorted(name for name, value in checks.items() if value.startswith("failed"))
    if failed:
        error = ServiceUnavailableError(
            "not ready: " + ", ".join(failed), details={"failed": failed, "checks": checks}
        )
        return JSONResponse(error.to_envelope(), status_code=503)
    return {"status": "ready", "checks": checks}
