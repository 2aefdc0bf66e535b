"""The production queue: dramatiq actors on its Redis broker (``ACCUNODE_REDIS_URL``).

A worker heartbeats while it holds messages; messages held by a worker whose heartbeat is
older than ``HEARTBEAT_TIMEOUT_MS`` go back to the queue during the broker's maintenance.
dramatiq 2.x runs maintenance on a random ``maintenance_chance`` in a million of its
commands (default 1,000): on a quiet queue that can take many minutes, so every command
runs it here (it is one sorted-set range query while no worker is dead). A busy worker keeps
heartbeating through its delay-queue consumer, which polls about every second.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from accunode_cli.config import Settings

__all__ = [
    "HEARTBEAT_TIMEOUT_MS",
    "QUEUE_NAME",
    "make_broker",
    "declare_actors",
    "DramatiqExecutor",
]

log = logging.getLogger("accunode.jobs")

QUEUE_NAME = "accunode-jobs"
HEARTBEAT_TIMEOUT_MS = 15_000  # a killed worker's chunk is back on the queue within ~15 s
_ALWAYS = 1_000_000  # dramatiq's MAINTENANCE_SCALE: maintenance on every command
_TIME_LIMIT_MS = 30 * 60_000

_context: Any = None  # the worker process's JobContext, set by accunode worker


def make_broker(settings: Settings) -> Any:
    """Return dramatiq's Redis broker for the settings (keys under the Redis prefix)."""
    from dramatiq.brokers.redis import RedisBroker

    if not settings.redis_url:
        raise ValueError("the dramatiq broker needs ACCUNODE_REDIS_URL")
    return RedisBroker(
        url=settings.redis_url,
        namespace=f"{settings.redis_prefix}dramatiq",
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=_ALWAYS,
        socket_timeout=10,
        socket_connect_timeout=5,
    )


def set_context(context: Any) -> None:
    """Give the actors of this process their JobContext (``accunode worker`` does this)."""
    global _context
    _context = context


def _prepare(job_id: str) -> None:
    from accunode_cli.jobs.runner import prepare_job

    chunk_ids = prepare_job(_context, uuid.UUID(job_id))
    actor = _context_actors["chunk"]
    for chunk_id in chunk_ids:
        actor.send(str(chunk_id))


def _chunk(chunk_id: str) -> None:
    from accunode_cli.jobs.runner import run_chunk

    run_chunk(_context, uuid.UUID(chunk_id))


_context_actors: dict[str, Any] = {}


def declare_actors(broker: Any) -> dict[str, Any]:
    """Declare the two actors on ``broker``; return them by name (prepare, chunk)."""
    import dramatiq

    options: dict[str, Any] = {
        "max_retries": 20,
        "min_backoff": 1_000,
        "max_backoff": 30_000,
        "time_limit": _TIME_LIMIT_MS,
    }
    actors = {
        name: dramatiq.actor(
            actor_name=actor_name, queue_name=QUEUE_NAME, broker=broker, **options
        )(function)
        for name, actor_name, function in (
            ("prepare", "accunode_prepare_job", _prepare),
            ("chunk", "accunode_run_chunk", _chunk),
        )
    }
    _context_actors.update(actors)
    return actors


class DramatiqExecutor:
    """Hand jobs to ``accunode worker`` processes through the Redis broker (API side)."""

    def __init__(self, settings: Settings) -> None:
        self.broker = make_broker(settings)
        self.actors = declare_actors(self.broker)

    def submit(self, job_id: uuid.UUID) -> None:
        """Queue a job's preparation; a worker splits it and queues its chunks."""
        self.actors["prepare"].send(str(job_id))

    def close(self) -> None:
        """Close the broker's connections."""
        self.broker.close()
