"""What the lifespan builds once and every request shares: engine, sessions, store, models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from accunode_cli.config import Settings
from accunode_cli.errors import AccuNodeError, ModelError
from accunode_cli.server.batching import Coalescer
from accunode_cli.services.predictions import PredictionRequest
from accunode_cli.storage.kv import HitRequest, HitResult, KeyValueStore, RedisStore
from accunode_cli.storage.organizations import Access

__all__ = ["AppState", "build_state", "in_transactions"]

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("accunode.server")


@dataclass
class AppState:
    """Long-lived resources of one API process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: KeyValueStore
    models: dict[str, Any]
    jwt_secret: str
    dummy_password_hash: str
    model_errors: dict[str, str] = field(default_factory=dict)
    # Bulk-upload jobs: what the runners share, and where chunks run (see start_jobs).
    job_context: Any = None
    executor: Any = None
    # Coalescers: concurrent requests share one round trip (see server/batching.py).
    access: Coalescer[tuple[Any, Any], Access | None] = field(init=False)
    hits: Coalescer[HitRequest, HitResult] | None = field(init=False)
    writers: dict[str, Coalescer[PredictionRequest, dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        from accunode_cli.storage import organizations

        self.access = Coalescer(partial(in_transactions, self.sessions, organizations.get_access))
        # The in-process store answers without I/O: no batching, no thread hop.
        self.hits = (
            Coalescer(partial(self.store.hit_many, window_seconds=60))
            if isinstance(self.store, RedisStore)
            else None
        )
        self.writers = {kind: self._writer(kind, model) for kind, model in self.models.items()}
        if isinstance(self.store, RedisStore):
            # Revocations made by any process while Redis was down reach every process when
            # it returns: they are kept in the database and copied back (server/accounts.py).
            from accunode_cli.server.accounts import replay_revocations

            self.store.on_recover = partial(replay_revocations, self)

    def _writer(self, kind: str, model: Any) -> Coalescer[PredictionRequest, dict[str, Any]]:
        from accunode_cli.services import predictions

        def write(
            session: Session, items: list[PredictionRequest]
        ) -> Sequence[dict[str, Any] | BaseException]:
            return predictions.record_predictions(session, kind=kind, model=model, requests=items)

        return Coalescer(partial(in_transactions, self.sessions, write))

    def start_jobs(self) -> None:
        """Open the blob store and start the job executor: dramatiq with Redis, else a thread."""
        from accunode_cli.jobs.context import JobContext
        from accunode_cli.storage.blobs import open_blob_store

        self.job_context = JobContext(
            settings=self.settings,
            sessions=self.sessions,
            blobs=open_blob_store(self.settings.effective_blob_url),
            models=self.models,
            store=self.store,
        )
        if self.settings.redis_url:
            from accunode_cli.jobs.queue import DramatiqExecutor

            self.executor = DramatiqExecutor(self.settings)
        else:
            from accunode_cli.jobs.executors import ThreadExecutor

            executor = ThreadExecutor(self.job_context)
            executor.start()
            self.executor = executor

    def close(self) -> None:
        """Release connections."""
        if self.executor is not None:
            self.executor.close()  # the current chunk finishes; the rest resumes on restart
        self.store.close()
        self.engine.dispose()


def in_transactions(
    sessions: sessionmaker[Session],
    work: Callable[[Session, list[T]], Sequence[R | BaseException]],
    items: list[T],
) -> Sequence[R | BaseException]:
    """Run ``work`` on a batch in one transaction; if the database refuses it, item by item.

    A statement that fails for one request's data (a value the database cannot hold, say)
    must not fail the others batched with it: the batch is retried one item per transaction,
    and only the items that fail again report their error. A database that cannot be reached
    fails the whole batch at once (retrying each item would only multiply the timeouts).
    """
    try:
        with sessions() as session, session.begin():
            return work(session, items)
    except (OperationalError, InterfaceError):
        raise
    except SQLAlchemyError:
        if len(items) == 1:
            raise
    results: list[R | BaseException] = []
    for item in items:
        try:
            with sessions() as session, session.begin():
                results.extend(work(session, [item]))
        except SQLAlchemyError as exc:
            results.append(exc)
    return results


def _load_models(settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    from accunode_cli.scoring import KINDS, load_model

    models: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for kind in KINDS:
        folder = settings.model_dir / kind if settings.model_dir else None
        try:
            models[kind] = load_model(kind, folder)
        except (AccuNodeError, ModelError) as exc:
            log.error("model failed to load", extra={"operation": kind, "error_code": exc.code})
            errors[kind] = exc.message
    return models, errors


def build_state(settings: Settings) -> AppState:
    """Open the database (migrating it), the store and the models."""
    from accunode_cli.server.security import hash_password
    from accunode_cli.storage.db import make_engine, make_private_folder, make_session_factory
    from accunode_cli.storage.kv import make_store
    from accunode_cli.storage.migrate import upgrade_database

    if settings.database_url is None:
        make_private_folder(settings.data_dir)
    migrating = make_engine(settings.effective_database_url)  # no deadline: DDL may take long
    try:
        upgrade_database(migrating)
    finally:
        migrating.dispose()
    engine = make_engine(settings.effective_database_url, timeout=settings.database_timeout_seconds)
    models, errors = _load_models(settings)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        store=make_store(settings.redis_url, prefix=settings.redis_prefix),
        models=models,
        model_errors=errors,
        jwt_secret=settings.effective_jwt_secret(),
        dummy_password_hash=hash_password("not a real password", rounds=settings.bcrypt_rounds),
    )
    if isinstance(state.store, RedisStore):  # revocations made while this process was down
        from accunode_cli.server.accounts import replay_revocations

        replay_revocations(state)
    return state
