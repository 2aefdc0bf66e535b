"""/health (alive) and /health/ready (database, Redis and models really checked)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from accunode_cli import __version__
from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.server.deps import StateDep
from accunode_cli.server.schemas import ErrorEnvelope
from accunode_cli.server.state import AppState

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
async def health() -> Any:
    """Answer 200 while the process runs (on the event loop: no worker thread, no I/O)."""
    return {"status": "ok", "version": __version__}


@router.head("", include_in_schema=False)
async def health_head() -> Response:
    """Answer 200 with no body (load balancers that probe with HEAD)."""
    return Response(status_code=200)


@functools.cache
def _threads(check: str) -> ThreadPoolExecutor:
    """Threads of one check's own, never the request pool's: a stalled database holds at
    most these two, and a probe answers "failed: timed out" while they are stuck."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"ready-{check}")


def _database_check(state: AppState) -> None:
    with state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis_check(state: AppState) -> None:
    state.store.ping()


async def _bounded(check: Callable[[AppState], None], state: AppState) -> str:
    future = asyncio.wrap_future(_threads(check.__name__).submit(check, state))
    try:
        await asyncio.wait_for(future, state.settings.readiness_timeout_seconds)
    except TimeoutError:
        return "failed: timed out"
    except ServiceUnavailableError:
        return "failed: unreachable"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"failed: {type(exc).__name__}"
    return "ok"


async def _checks(state: AppState) -> dict[str, str]:
    redis = state.settings.redis_url
    database, redis_status = await asyncio.gather(
        _bounded(_database_check, state),
        _bounded(_redis_check, state) if redis else _constant("not configured (in-process store)"),
    )
    checks: dict[str, str] = {"database": database, "redis": redis_status}
    for kind in ("annual", "quarterly"):
        checks[f"model_{kind}"] = (
            state.models[kind].version if kind in state.models else "failed: not loaded"
        )
    return checks


async def _constant(value: str) -> str:
    return value


@router.get(
    "/ready",
    response_model=ReadyPublic,
    responses={
        503: {"model": ErrorEnvelope, "description": "A dependency failed; details say which"}
    },
)
async def ready(state: StateDep) -> Any:
    """Check the database, Redis (when configured) and the models; 503 names what failed.

    Each check has its own short timeout (``readiness_timeout_seconds``).
    """
    checks = await _checks(state)
    failed = sorted(name for name, value in checks.items() if value.startswith("failed"))
    if failed:
        error = ServiceUnavailableError(
            "not ready: " + ", ".join(failed), details={"failed": failed, "checks": checks}
        )
        return JSONResponse(error.to_envelope(), status_code=503)
    return {"status": "ready", "checks": checks}
