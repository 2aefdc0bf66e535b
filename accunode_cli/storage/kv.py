"""Shared counters, revoked-token flags and a read cache: Redis when configured, else in-process.

Both stores have the same interface. ``RedisStore`` degrades rather than fails: when Redis cannot
be reached it logs once a minute and falls back to its own in-process store (rate limits count
per process, revocations made by this process still hold, the cache is bypassed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["KeyValueStore", "MemoryStore", "RedisStore", "make_store", "HitRequest", "HitResult"]

HitRequest = tuple[Sequence[str], Sequence[str]]
"""One request's counters to count a hit on, and the flags to check."""
HitResult = tuple[list[tuple[int, int]], bool]
"""Each counter's (count, seconds until reset), and whether any flag is set."""

log = logging.getLogger("accunode.storage.kv")
_RELEASE = "if redis.call('get', KEYS[1]) then return redis.call('decr', KEYS[1]) end return 0"


class KeyValueStore(Protocol):
    """What the server needs from Redis."""

    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one hit in the current fixed window; return (count, seconds until reset)."""
        ...

    def count(self, key: str) -> int:
        """Return the current window's count of ``key`` (0 when none)."""
        ...

    def release(self, key: str) -> None:
        """Take back one hit counted by ``incr_window`` (a reservation that was not used)."""
        ...

    def hit_many(self, requests: Sequence[HitRequest], window_seconds: int) -> list[HitResult]:
        """Count each request's hits and check its flags; many requests in one round trip."""
        ...

    def set_flag(self, key: str, ttl_seconds: int) -> None:
        """Set a flag that disappears after ``ttl_seconds``."""
        ...

    def any_flag(self, *keys: str) -> bool:
        """Return whether any of the flags is set."""
        ...

    def cache_get(self, key: str) -> str | None:
        """Return a cached value or None."""
        ...

    def cache_set(self, key: str, value: str, ttl_seconds: int) -> None:
        """Cache a value for ``ttl_seconds``."""
        ...

    def cache_get_many(self, *keys: str) -> list[str | None]:
        """Return several cached values (None for each missing one) in one round trip."""
        ...

    def cache_delete(self, *keys: str) -> None:
        """Forget cached values."""
        ...

    def ping(self) -> None:
        """Raise when the store cannot be used."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MemoryStore:
    """The in-process store of the embedded default (one process)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> Any | None:
        item = self._values.get(key)
        if item is None or item[1] <= now:
            self._values.pop(key, None)
            return None
        return item[0]

    def _purge(self, now: float) -> None:
        if len(self._values) > 50_000:
            for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
                del self._values[key]

    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            item = self._values.get(key)
            if item is None or item[1] <= now:
                item = (0, now + window_seconds)
            count = int(item[0]) + 1
            self._values[key] = (count, item[1])
            return count, max(1, int(item[1] - now + 0.999))

    def hit_many(self, requests: Sequence[HitRequest], window_seconds: int) -> list[HitResult]:
        return [
            (
                [self.incr_window(key, window_seconds) for key in counters],
                bool(flags) and self.any_flag(*flags),
            )
            for counters, flags in requests
        ]

    def release(self, key: str) -> None:
        with self._lock:
            item = self._values.get(key)
            if item is not None and isinstance(item[0], int) and item[0] > 0:
                self._values[key] = (item[0] - 1, item[1])

    def count(self, key: str) -> int:
        with self._lock:
            value = self._live(key, time.monotonic())
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0

    def set_flag(self, key: str, ttl_seconds: int) -> None:
        with self._lock:
            self._purge(time.monotonic())
            self._values[key] = (True, time.monotonic() + max(1, ttl_seconds))

    def any_flag(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(self._live(key, now) is not None for key in keys)

    def cache_get(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key, time.monotonic())
            return value if isinstance(value, str) else None

    def cache_set(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl_seconds)

    def cache_get_many(self, *keys: str) -> list[str | None]:
        return [self.cache_get(key) for key in keys]

    def cache_delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        self._values.clear()


class RedisStore:
    """The shared store: every API process behind a load balancer sees the same counts and flags."""

    def __init__(self, url: str, *, prefix: str = "accunode:") -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True
        )
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self._local = MemoryStore()
        self._last_warning = 0.0
        self.on_recover: Callable[[], object] | None = None
        """Called (on a thread of its own) once Redis answers again after an outage."""
        self._watching = threading.Lock()
        self._closed = threading.Event()

    def _degraded(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning(
                "redis unavailable, degrading to in-process store",
                extra={"operation": operation, "error_type": type(exc).__name__},
            )
        if self._watching.acquire(blocking=False):  # one watcher per outage
            threading.Thread(target=self._watch, name="redis-recovery", daemon=True).start()

    def _watch(self) -> None:
        """Ping Redis every second until it answers, then run ``on_recover``."""
        try:
            while not self._closed.wait(1.0):
                try:
                    self._redis.ping()
                except self._errors:
                    continue
                log.warning("redis reachable again", extra={"operation": "recover"})
                if self.on_recover is not None:
                    self.on_recover()
                return
        except Exception as exc:  # noqa: BLE001 - a failed replay is retried at the next outage
            log.error("redis recovery failed", extra={"error_type": type(exc).__name__})
        finally:
            self._watching.release()

    def incr_window(self, key: str, window_seconds: int) -> tuple[int, int]:
        full = self._prefix + key
        try:
            pipe = self._redis.pipeline()
            pipe.incr(full)
            pipe.expire(full, window_seconds, nx=True)
            pipe.ttl(full)
            count, _, ttl = pipe.execute()
            return int(count), max(1, int(ttl))
        except self._errors as exc:
            self._degraded("incr_window", exc)
            return self._local.incr_window(key, window_seconds)

    def hit_many(self, requests: Sequence[HitRequest], window_seconds: int) -> list[HitResult]:
        # A counter hit k times in the batch costs one INCRBY k; each hit gets its own count.
        hits = Counter(key for counters, _ in requests for key in counters)
        flags = list(dict.fromkeys(flag for _, wanted in requests for flag in wanted))
        try:
            pipe = self._redis.pipeline(transaction=False)
            for key, times in hits.items():
                pipe.incrby(self._prefix + key, times)
                pipe.expire(self._prefix + key, window_seconds, nx=True)
                pipe.ttl(self._prefix + key)
            if flags:
                pipe.mget([self._prefix + flag for flag in flags])
            replies = pipe.execute()
        except self._errors as exc:
            self._degraded("hit", exc)
            return self._local.hit_many(requests, window_seconds)
        totals = {
            key: (int(replies[3 * i]), max(1, int(replies[3 * i + 2])))
            for i, key in enumerate(hits)
        }
        raised = (
            {flag for flag, value in zip(flags, replies[-1], strict=True) if value}
            if flags
            else set()
        )
        seen: Counter[str] = Counter()
        results: list[HitResult] = []
        for counters, wanted in requests:
            counts = []
            for key in counters:
                seen[key] += 1
                total, reset = totals[key]
                counts.append((total - hits[key] + seen[key], reset))
            revoked = any(flag in raised for flag in wanted) or (
                bool(wanted) and self._local.any_flag(*wanted)
            )
            results.append((counts, revoked))
        return results

    def release(self, key: str) -> None:
        try:  # never creates the key: an expired window stays expired
            self._redis.eval(_RELEASE, 1, self._prefix + key)
        except self._errors as exc:
            self._degraded("release", exc)
            self._local.release(key)

    def count(self, key: str) -> int:
        try:
            value = self._redis.get(self._prefix + key)
        except self._errors as exc:
            self._degraded("count", exc)
            return self._local.count(key)
        return int(value) if isinstance(value, str) and value.isdigit() else 0

    def set_flag(self, key: str, ttl_seconds: int) -> None:
        self._local.set_flag(key, ttl_seconds)
        try:
            self._redis.set(self._prefix + key, "1", ex=max(1, ttl_seconds))
        except self._errors as exc:
            self._degraded("set_flag", exc)

    def any_flag(self, *keys: str) -> bool:
        if self._local.any_flag(*keys):
            return True
        try:
            return bool(self._redis.exists(*(self._prefix + key for key in keys)))
        except self._errors as exc:
            self._degraded("any_flag", exc)
            return False

    def cache_get(self, key: str) -> str | None:
        try:
            value = self._redis.get(self._prefix + key)
        except self._errors as exc:
            self._degraded("cache_get", exc)
            return None
        return value if isinstance(value, str) else None

    def cache_set(self, key: str, value: str, ttl_seconds: int) -> None:
        try:
            self._redis.set(self._prefix + key, value, ex=ttl_seconds)
        except self._errors as exc:
            self._degraded("cache_set", exc)

    def cache_get_many(self, *keys: str) -> list[str | None]:
        try:
            values = self._redis.mget([self._prefix + key for key in keys])
        except self._errors as exc:
            self._degraded("cache_get", exc)
            return [None] * len(keys)
        return [value if isinstance(value, str) else None for value in values]

    def cache_delete(self, *keys: str) -> None:
        try:
            self._redis.delete(*(self._prefix + key for key in keys))
        except self._errors as exc:
            self._degraded("cache_delete", exc)

    def ping(self) -> None:
        from accunode_cli.errors import ServiceUnavailableError

        try:
            self._redis.ping()
        except self._errors as exc:
            raise ServiceUnavailableError("redis is not reachable") from exc

    def close(self) -> None:
        self._closed.set()
        self._redis.close()


def make_store(redis_url: str | None, *, prefix: str = "accunode:") -> KeyValueStore:
    """Return a Redis-backed store when a URL is given, else the in-process one."""
    return RedisStore(redis_url, prefix=prefix) if redis_url else MemoryStore()
