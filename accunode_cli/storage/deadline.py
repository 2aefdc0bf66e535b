"""A deadline on every PostgreSQL round trip: a stalled database fails a request, never hangs it.

``connect_timeout`` bounds a new connection and ``statement_timeout`` a query the server runs
slowly, but neither helps when the database (or a proxy or network on the way) stops answering
on a connection already open: the kernel still acknowledges what is sent, TCP keepalives see a
live peer, and the worker thread waits in ``recv`` for ever. The watchdog here arms a deadline
before each statement, commit, rollback and pool ping, and when one passes it shuts the
connection's socket down: the blocked read returns at once, psycopg raises ``OperationalError``,
SQLAlchemy discards the connection and the request answers 503.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Engine, event

__all__ = ["Watchdog", "install_deadlines"]

log = logging.getLogger("accunode.storage.db")


class Watchdog:
    """One thread that shuts down the socket of any connection whose deadline has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._heap: list[tuple[float, int, int]] = []  # (deadline, token, socket fd)
        self._armed: dict[int, int] = {}  # id(dbapi connection) -> token
        self._live: set[int] = set()
        self._tokens = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any) -> None:
        """Start (or restart) the deadline of a connection's next round trip."""
        fd = _socket_fd(dbapi_connection)
        if fd is None:
            return
        with self._wake:
            token = next(self._tokens)
            old = self._armed.pop(id(dbapi_connection), None)
            if old is not None:
                self._live.discard(old)
            self._armed[id(dbapi_connection)] = token
            self._live.add(token)
            heapq.heappush(self._heap, (time.monotonic() + self.seconds, token, fd))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()

    def disarm(self, dbapi_connection: Any) -> None:
        """The round trip ended in time."""
        with self._wake:
            token = self._armed.pop(id(dbapi_connection), None)
            if token is not None:
                self._live.discard(token)

    @contextmanager
    def guard(self, dbapi_connection: Any) -> Iterator[None]:
        """Bound one call on the connection."""
        self.arm(dbapi_connection)
        try:
            yield
        finally:
            self.disarm(dbapi_connection)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # ended in time: forget it
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, token, fd = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(token)
                self._armed = {k: v for k, v in self._armed.items() if v != token}
                _shut_down(fd)  # under the lock: the connection cannot be disarmed and reused
            log.error("database round trip timed out", extra={"operation": "deadline"})


def _socket_fd(dbapi_connection: Any) -> int | None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    try:
        fd = pgconn.socket if pgconn is not None else None
    except Exception:  # noqa: BLE001 - a closed connection has no socket: nothing to bound
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


def _shut_down(fd: int) -> None:
    try:
        duplicate = os.dup(fd)
    except OSError:
        return
    # closing the duplicate leaves fd open for psycopg, which then reads end-of-file
    with socket.socket(fileno=duplicate) as sock, suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def install_deadlines(engine: Engine, seconds: float) -> Watchdog:
    """Bound every statement, commit, rollback and pool ping of a PostgreSQL engine."""
    watchdog = Watchdog(seconds)

    def before_execute(conn: Any, *_: Any) -> None:
        watchdog.arm(conn.connection.dbapi_connection)

    def after_execute(conn: Any, *_: Any) -> None:
        watchdog.disarm(conn.connection.dbapi_connection)

    def before_end(conn: Any) -> None:  # commit / rollback: disarmed when checked in
        watchdog.arm(conn.connection.dbapi_connection)

    def on_error(context: Any) -> None:
        dbapi_connection = getattr(context.connection, "connection", None)
        if dbapi_connection is not None and dbapi_connection.dbapi_connection is not None:
            watchdog.disarm(dbapi_connection.dbapi_connection)

    def checked_in(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            watchdog.disarm(dbapi_connection)

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine, "commit", before_end)
    event.listen(engine, "rollback", before_end)
    event.listen(engine, "handle_error", on_error)
    event.listen(engine.pool, "checkin", checked_in)
    event.listen(engine.pool, "reset", lambda dbapi_connection, *_: watchdog.arm(dbapi_connection))
    # The pool's pre-ping goes straight to the driver, past the events above.
    ping: Callable[[Any], bool] = engine.dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        with watchdog.guard(dbapi_connection):
            return ping(dbapi_connection)

    engine.dialect.do_ping = do_ping  # type: ignore[method-assign]
    return watchdog
