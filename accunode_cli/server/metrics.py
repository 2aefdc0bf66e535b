"""``GET /metrics`` and the middleware that counts requests (on when ``ACCUNODE_METRICS=true``).

Requests are labelled by method, route template and status, never by the raw path: ids in
paths would leak tenant data and make every request its own series. The API's own scoring
routes count the predictions they score here too, from the route that answered.

The job queue depth is measured at each scrape with one count in the database, not kept
by the processes that queue and run chunks: workers on other hosts (``accunode worker``), a
killed worker's chunks and several API processes would each know only part of it, while the
database holds what is left to do. The count has its own thread and a short bound
(``readiness_timeout_seconds``); when it fails the gauges keep their last value.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accunode_cli import metrics
from accunode_cli.server.deps import StateDep

if TYPE_CHECKING:
    from fastapi import FastAPI

    from accunode_cli.server.state import AppState

__all__ = ["MetricsMiddleware", "install_metrics", "router"]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_UNMATCHED = "<unmatched>"
# A 2xx from one of these routes scored one prediction: (create|update)_<kind>_prediction.
_SCORING_ROUTE = re.compile(r"^(?:create|update)_(annual|quarterly)_prediction$")

log = logging.getLogger("accunode.server")
router = APIRouter(tags=["metrics"])


@functools.cache
def _counter_thread() -> ThreadPoolExecutor:
    """One thread of its own: a stalled database holds it, never the request pool."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-queue")


def _count_waiting(state: AppState) -> None:
    from accunode_cli.storage.jobs import waiting_work

    with state.sessions() as session:
        chunks, queued = waiting_work(session)
    metrics.set_queue_depth(chunks, jobs=queued)


async def _measure_queue(state: AppState) -> None:
    future = asyncio.wrap_future(_counter_thread().submit(_count_waiting, state))
    try:
        await asyncio.wait_for(future, state.settings.readiness_timeout_seconds)
    except Exception as exc:  # noqa: BLE001 - the scrape answers; the gauges keep their value
        log.warning("queue depth not measured", extra={"error_type": type(exc).__name__})


@router.get("/metrics", include_in_schema=False)
async def read_metrics(state: StateDep) -> Response:
    """Return every metric in the Prometheus text format (the queue depth measured now)."""
    await _measure_queue(state)
    body, content_type = await run_in_threadpool(metrics.render)  # reads files: off the loop
    return Response(body, media_type=content_type)


def _template(path: str, route: object) -> str:
    """Return the route template of ``path`` ("/api/v1/companies/{company_id}")."""
    own: str | None = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not own or regex is None:
        return _UNMATCHED
    # Routes of an included router may know only their own part of the path (FastAPI keeps
    # the inclusion prefix apart): the prefix is the literal head that their pattern does not match.
    start = 0
    while start != -1:
        if regex.match(path[start:] or "/"):
            return path[:start] + own
        start = path.find("/", start + 1)
    return own


class MetricsMiddleware:
    """Count each HTTP request by method, route template and status, and time it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self._record(scope, status["code"], time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, code: int, seconds: float) -> None:
        method = scope.get("method", "GET")
        method = method if method in _METHODS else "OTHER"
        route = scope.get("route")
        template = _template(scope.get("path", ""), route)
        metrics.REQUESTS.labels(method=method, route=template, status=str(code)).inc()
        metrics.REQUEST_SECONDS.labels(method=method, route=template).observe(seconds)
        scoring = _SCORING_ROUTE.match(getattr(route, "name", "") or "")
        if scoring and 200 <= code < 300:
            metrics.count_predictions(scoring.group(1))


def install_metrics(app: FastAPI) -> None:
    """Add ``GET /metrics`` and the counting middleware (call after the other middleware)."""
    app.include_router(router)
    app.add_middleware(MetricsMiddleware)
    if metrics.multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        # This process's live gauges stop counting once it exits.
        atexit.register(multiprocess.mark_process_dead, os.getpid())
