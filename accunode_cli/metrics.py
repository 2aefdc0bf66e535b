"""Prometheus metrics of AccuNode: what is counted, shared by the API and the workers.

The server exposes them at ``GET /metrics`` when ``ACCUNODE_METRICS=true``
(:mod:`accunode_cli.server.metrics`); other layers only count, through the functions here:

    count_predictions(kind, n)           predictions scored (the API counts its own routes)
    count_job_rows(kind, scored=, rejected=)   rows of bulk-upload jobs processed
    set_queue_depth(chunks, jobs=)       chunks waiting in the job queue, jobs not yet split
    instrument_engine(engine)            database connections in use and pool capacity

Labels never carry tenant data: routes are templates (``/companies/{company_id}``), and no
label holds an id, an e-mail, a symbol or an organization.

With several processes (``accunode serve --workers N``), prometheus-client's multiprocess mode
keeps each process's values in files under ``PROMETHEUS_MULTIPROC_DIR``; the variable must be set
before this module is first imported (``accunode serve`` does so), and a scrape adds them up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "REQUESTS",
    "REQUEST_SECONDS",
    "PREDICTIONS",
    "JOB_ROWS",
    "QUEUE_DEPTH",
    "JOBS_QUEUED",
    "DB_CONNECTIONS_IN_USE",
    "DB_POOL_CAPACITY",
    "count_predictions",
    "count_job_rows",
    "set_queue_depth",
    "instrument_engine",
    "multiprocess_dir",
    "render",
]

REQUESTS = Counter(
    "accunode_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "accunode_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PREDICTIONS = Counter("accunode_predictions_scored", "Predictions scored, by model kind.", ["kind"])
JOB_ROWS = Counter(
    "accunode_job_rows_processed",
    "Rows of bulk-upload jobs processed, by model kind and outcome (scored or rejected).",
    ["kind", "outcome"],
)
# Measured from the database at each scrape (server/metrics.py): the database is the one
# record of what is left to do, whichever processes or hosts run the chunks.
QUEUE_DEPTH = Gauge(
    "accunode_job_queue_depth",
    "Job chunks waiting to be processed: chunks of running jobs not yet done.",
    multiprocess_mode="mostrecent",
)
JOBS_QUEUED = Gauge(
    "accunode_jobs_queued",
    "Bulk-upload jobs queued and not yet split into chunks.",
    multiprocess_mode="mostrecent",
)
DB_CONNECTIONS_IN_USE = Gauge(
    "accunode_db_connections_in_use",
    "Database connections checked out of the pool, over all live processes.",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "accunode_db_pool_capacity",
    "Connections the pools may open (size plus overflow), over all live processes.",
    multiprocess_mode="livesum",
)


def count_predictions(kind: str, n: int = 1) -> None:
    """Count ``n`` predictions scored with the ``kind`` model."""
    PREDICTIONS.labels(kind=kind).inc(n)


def count_job_rows(kind: str, *, scored: int, rejected: int) -> None:
    """Count the rows of a processed job chunk."""
    if scored:
        JOB_ROWS.labels(kind=kind, outcome="scored").inc(scored)
    if rejected:
        JOB_ROWS.labels(kind=kind, outcome="rejected").inc(rejected)


def set_queue_depth(chunks: int, *, jobs: int = 0) -> None:
    """Record how many job chunks are waiting, and how many jobs wait to be split."""
    QUEUE_DEPTH.set(chunks)
    JOBS_QUEUED.set(jobs)


def instrument_engine(engine: Engine) -> None:
    """Track the engine's pool: connections in use (live) and capacity (size + overflow)."""
    from sqlalchemy import event

    pool: Any = engine.pool
    if hasattr(pool, "size") and hasattr(pool, "_max_overflow"):
        DB_POOL_CAPACITY.inc(pool.size() + max(pool._max_overflow, 0))
    event.listen(engine, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.dec())


def multiprocess_dir() -> str | None:
    """Return PROMETHEUS_MULTIPROC_DIR when several processes share the metrics."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """Return the metrics in the Prometheus text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry), CONTENT_TYPE_LATEST
