"""The read cache of predictions: versioned entries in the key-value store, forgotten after
every committed change (by the API's routes and by bulk-upload jobs that replace rows)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from accunode_cli.storage.kv import KeyValueStore

__all__ = [
    "CACHE_SECONDS",
    "prediction_cache_key",
    "read_cached_prediction",
    "cache_prediction",
    "forget_predictions",
    "forget_predictions_after_commit",
]

CACHE_SECONDS = 60  # short: a cache entry that outlives a Redis outage is soon gone


def prediction_cache_key(organization_id: uuid.UUID, kind: str, prediction_id: uuid.UUID) -> str:
    """Return the cache key of one prediction read (the organization is part of the key)."""
    return f"cache:prediction:{organization_id}:{kind}:{prediction_id}"


def _version_key(cache_key: str) -> str:
    return cache_key.replace("cache:prediction:", "cache:prediction-version:", 1)


# Versioned entries: a read caches its body under the version it saw *before* reading the
# database, and every committed change sets a new version. A read that raced a change and
# got the old row caches it under a version nobody asks for any more, so it is never served.
# (Deleting the key, even after the commit, loses that race: the slow read writes it back.)
# A version outlives every entry made under it, so an absent version is never confused with
# an old one.
_VERSION_SECONDS = 2 * CACHE_SECONDS


def read_cached_prediction(store: KeyValueStore, key: str) -> tuple[dict[str, Any] | None, str]:
    """Return the cached body of a prediction read (or None) and the version to cache under."""
    version, entry = store.cache_get_many(_version_key(key), key)
    version = version or "-"
    if entry is not None:
        tag, _, body = entry.partition("\n")
        if tag == version:
            return json.loads(body), version
    return None, version


def cache_prediction(store: KeyValueStore, key: str, version: str, body: dict[str, Any]) -> None:
    """Cache a prediction read under the version read before the database was."""
    store.cache_set(key, version + "\n" + json.dumps(body), CACHE_SECONDS)


def forget_predictions(
    store: KeyValueStore, organization_id: uuid.UUID, kind: str, ids: list[uuid.UUID]
) -> None:
    """Give these predictions a new cache version (call it after the change is committed)."""
    keys = [prediction_cache_key(organization_id, kind, i) for i in ids]
    for key in keys:
        store.cache_set(_version_key(key), uuid.uuid4().hex, _VERSION_SECONDS)
    if keys:
        store.cache_delete(*keys)


def forget_predictions_after_commit(
    session: Session,
    store: KeyValueStore,
    organization_id: uuid.UUID,
    kind: str,
    ids: list[uuid.UUID],
) -> None:
    """Forget these predictions' cached reads once the session's transaction commits."""
    if ids:
        event.listen(
            session,
            "after_commit",
            lambda _: forget_predictions(store, organization_id, kind, ids),
            once=True,
        )
