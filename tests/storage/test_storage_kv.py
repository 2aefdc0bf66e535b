"""The key-value store: the same behaviour in process and on Redis; Redis outages degrade."""

from __future__ import annotations

import uuid

import pytest
from dbservers import REDIS_URL, unavailable

from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.storage.kv import KeyValueStore, MemoryStore, RedisStore


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> KeyValueStore:
    if request.param == "memory":
        return MemoryStore()
    redis_store = RedisStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        redis_store.ping()
    except ServiceUnavailableError as exc:
        unavailable("Redis", exc)
    return redis_store


def test_window_counts_flags_and_cache(store: KeyValueStore) -> None:
    assert store.incr_window("rl:a", 60)[0] == 1
    count, reset = store.incr_window("rl:a", 60)
    assert count == 2 and 1 <= reset <= 60
    assert store.count("rl:a") == 2 and store.count("rl:none") == 0
    assert not store.any_flag("revoked:x", "revoked:y")
    store.set_flag("revoked:y", 30)
    assert store.any_flag("revoked:x", "revoked:y")
    store.cache_set("c", "value", 30)
    assert store.cache_get("c") == "value"
    store.cache_delete("c")
    assert store.cache_get("c") is None
    store.close()


def test_many_requests_counted_in_one_call_each_get_their_own_count(store: KeyValueStore) -> None:
    store.set_flag("revoked:f", 30)
    results = store.hit_many(
        [(["rl:a"], []), (["rl:a", "rl:b"], ["revoked:g"]), (["rl:a"], ["revoked:f"])], 60
    )
    assert [[count for count, _ in counts] for counts, _ in results] == [[1], [2, 1], [3]]
    assert [revoked for _, revoked in results] == [False, False, True]
    assert all(1 <= reset <= 60 for counts, _ in results for _, reset in counts)
    [(counts, _)] = store.hit_many([(["rl:a"], [])], 60)
    assert counts[0][0] == 4  # the batch counted every hit, not one per counter
    store.close()


def test_redis_outage_degrades_without_raising() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(ServiceUnavailableError):
        store.ping()
    assert store.incr_window("k", 60)[0] == 1  # counted in process
    store.set_flag("revoked:z", 60)
    assert store.any_flag("revoked:z")  # this process still honours its own revocation
    [(counts, revoked)] = store.hit_many([(["k"], ["revoked:z"])], 60)
    assert counts[0][0] == 2 and revoked  # the API's batched check degrades the same way
    store.cache_set("c", "v", 10)
    assert store.cache_get("c") is None  # cache bypassed
    store.cache_delete("c")
