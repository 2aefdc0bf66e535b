"""``accunode worker``: run job chunks from dramatiq's Redis broker until told to stop.

SIGTERM (or SIGINT) stops taking messages; the chunks in hand finish within the grace period
or go back to the queue (their transactions roll back), and the process exits 0. Every
``SWEEP_SECONDS`` the worker hands out again any job idle longer than
``ACCUNODE_JOB_STALE_SECONDS`` (an API that died between creating a job and queueing it).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta
from typing import Any

from accunode_cli.config import Settings
from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.logs import JsonFormatter

__all__ = ["run_worker", "check_worker", "SWEEP_SECONDS", "STOP_GRACE_MS"]

log = logging.getLogger("accunode.jobs")
SWEEP_SECONDS = 30.0
STOP_GRACE_MS = 20_000  # SIGTERM to exit stays under 30 s
CHECK_SECONDS = 5.0  # --check: the bound on each wait on the database and the broker


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("accunode", "dramatiq"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper() if name == "accunode" else "WARNING")
        logger.propagate = False


def check_worker(settings: Settings) -> None:
    """Raise ServiceUnavailableError unless the database and the broker answer (5 s bounds)."""
    import redis
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from accunode_cli.storage.db import make_engine

    engine = make_engine(settings.effective_database_url, pool_size=1, timeout=CHECK_SECONDS)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise ServiceUnavailableError("the worker cannot reach the database") from error
    finally:
        engine.dispose()
    if not settings.redis_url:
        raise ServiceUnavailableError("ACCUNODE_REDIS_URL is not set: the worker has no broker")
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=CHECK_SECONDS, socket_connect_timeout=CHECK_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        raise ServiceUnavailableError("the worker cannot reach the broker (Redis)") from error
    finally:
        client.close()


class _Resender:
    """Hand a job out again through the broker (what the sweep needs of an executor)."""

    def __init__(self, actors: dict[str, Any]) -> None:
        self.actors = actors

    def submit(self, job_id: Any) -> None:
        self.actors["prepare"].send(str(job_id))

    def close(self) -> None:
        """Nothing to release."""


def _bound_memory() -> None:
    """Keep a worker's memory near its working set: each thread scores and writes whole
    chunks, and the default allocators keep what a chunk freed for that thread (glibc opens
    an arena per thread, Arrow's mimalloc pool caches per thread). Measured on a 1M-row job
    with two threads: 572 MiB peak as it was, 457 MiB with the system pool and two arenas
    (docs/benchmarks.md has the 5M-row figures)."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(-8, 2)  # M_ARENA_MAX (glibc): two arenas for every thread
            # M_MMAP_THRESHOLD: a chunk's big arrays come from mmap and go back to the system
            # when freed (glibc otherwise raises the threshold and keeps them in its heap).
            libc.mallopt(-3, 256 * 1024)
    except OSError:  # not glibc: its allocator has its own policy
        pass


def run_worker(settings: Settings, *, concurrency: int) -> None:
    """Consume chunks until SIGTERM/SIGINT; return once every thread has stopped."""
    import dramatiq

    from accunode_cli.jobs import queue
    from accunode_cli.jobs.context import build_context
    from accunode_cli.jobs.executors import resume_jobs

    _configure_logging(settings.log_level)
    _bound_memory()
    context = build_context(settings)
    broker = queue.make_broker(settings)
    actors = queue.declare_actors(broker)
    queue.set_context(context)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # An idle consumer polls the queue at most 200 ms apart (dramatiq backs off to this): a
    # new job, and the chunks its split sends, wait that long at most, not a second.
    worker = dramatiq.Worker(broker, worker_threads=concurrency, worker_timeout=200)
    # One message waiting beyond the threads' own: a thread that finishes a chunk starts the
    # next at once. With none waiting, it waited for the consumer's next poll (up to a
    # second) and the threads fell into step, computing together and then waiting on the
    # database together (docs/benchmarks.md). More would keep chunks from other workers.
    worker.queue_prefetch = concurrency + 1
    worker.start()
    log.info("worker started", extra={"operation": f"concurrency {concurrency}"})
    idle = timedelta(seconds=settings.job_stale_seconds)
    resender = _Resender(actors)
    try:
        while True:
            try:
                resumed = resume_jobs(context, resender, idle=idle)
                if resumed:
                    log.info("stale jobs handed out", extra={"operation": f"{resumed} job(s)"})
            except Exception:  # the database is away: try at the next sweep
                log.exception("sweep failed")
            if stop.wait(SWEEP_SECONDS):
                break
    finally:
        log.info("worker stopping")
        worker.stop(timeout=STOP_GRACE_MS)
        broker.close()
        context.sessions.kw["bind"].dispose()
        log.info("worker stopped")
