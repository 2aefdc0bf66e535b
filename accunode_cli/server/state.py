"""What the lifespan builds once and every request shares: engine, sessions, store, models."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accunode_cli.config import Settings
from accunode_cli.errors import AccuNodeError, ModelError
from accunode_cli.storage.kv import KeyValueStore

__all__ = ["AppState", "build_state"]

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

    def close(self) -> None:
        """Release connections."""
        self.store.close()
        self.engine.dispose()


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
    from accunode_cli.storage.db import make_engine, make_session_factory
    from accunode_cli.storage.kv import make_store
    from accunode_cli.storage.migrate import upgrade_database

    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    upgrade_database(engine)
    models, errors = _load_models(settings)
    return AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        store=make_store(settings.redis_url, prefix=settings.redis_prefix),
        models=models,
        model_errors=errors,
        jwt_secret=settings.effective_jwt_secret(),
        dummy_password_hash=hash_password("not a real password", rounds=settings.bcrypt_rounds),
    )
