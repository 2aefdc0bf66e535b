"""What a job runner needs, built once per process: settings, sessions, blob store, models."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accunode_cli.config import Settings
from accunode_cli.errors import AccuNodeError, ServiceUnavailableError
from accunode_cli.storage.blobs import BlobStore, open_blob_store
from accunode_cli.storage.kv import KeyValueStore, make_store

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["JobContext", "build_context"]

log = logging.getLogger("accunode.jobs")


@dataclass
class JobContext:
    """Long-lived resources of a process that runs chunks."""

    settings: Settings
    sessions: sessionmaker[Session]
    blobs: BlobStore
    models: dict[str, Any]
    store: KeyValueStore | None = None  # the API's read cache, told of replaced predictions
    # The turn a chunk holds while it computes, never while it waits on the database.
    # Chunk threads share one interpreter lock: without turns, two chunks compute side by
    # side at half speed each, then wait on the database side by side, and one core idles in
    # each half. Taking turns, one chunk computes while the other's statements run
    # (docs/benchmarks.md). A thread holding the turn never waits on the database, so no
    # lock there can wait on the turn: no deadlock.
    cpu: threading.Lock = field(default_factory=threading.Lock)

    def model(self, kind: str) -> Any:
        """Return the loaded model of ``kind`` or raise ServiceUnavailableError."""
        model = self.models.get(kind)
        if model is None:
            raise ServiceUnavailableError(f"the {kind} model is not loaded")
        return model


def load_models(settings: Settings) -> dict[str, Any]:
    """Load every kind's model; a kind whose model fails is left out (and logged)."""
    from accunode_cli.scoring import KINDS, load_model

    models: dict[str, Any] = {}
    for kind in KINDS:
        folder = settings.model_dir / kind if settings.model_dir else None
        try:
            models[kind] = load_model(kind, folder)
        except AccuNodeError as exc:
            log.error("model failed to load", extra={"operation": kind, "error_code": exc.code})
    return models


# Every wait of a worker on the database is bounded: a chunk's statements take seconds, so a
# statement (or a lock wait) still running after five minutes is a stuck database; it is
# cancelled, the chunk's transaction rolls back and the chunk is handed out again later.
DATABASE_WAIT_SECONDS = 300.0


def build_context(settings: Settings, *, engine: Engine | None = None) -> JobContext:
    """Open the database (given, else from the settings with bounded waits), the blob store
    and the models."""
    from accunode_cli.storage.db import make_engine, make_session_factory

    engine = engine or make_engine(
        settings.effective_database_url, pool_size=4, timeout=DATABASE_WAIT_SECONDS
    )
    return JobContext(
        settings=settings,
        sessions=make_session_factory(engine),
        blobs=open_blob_store(settings.effective_blob_url),
        models=load_models(settings),
        store=make_store(settings.redis_url, prefix=settings.redis_prefix),
    )
