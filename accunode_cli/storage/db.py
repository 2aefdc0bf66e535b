"""Engine, session factory and the column types shared by every table."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "UTCDateTime",
    "JSONType",
    "RatioVector",
    "make_engine",
    "make_private_folder",
    "make_session_factory",
    "utcnow",
    "epoch_us",
    "as_utc",
    "new_id",
    "new_ids",
    "uuid7_bytes",
    "uuid_texts",
]


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return a datetime in UTC; one without an offset (or a bare date) is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def epoch_us(moment: datetime) -> int:
    """Return an aware datetime as whole microseconds since the epoch (exact, no float)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_id() -> uuid.UUID:
    """Return a new primary key: a UUIDv7 (RFC 9562), time-ordered, 74 random bits.

    New rows land at the right edge of a primary-key index instead of on a random page,
    which keeps big inserts (a bulk job's millions of rows) from rewriting the whole index.
    """
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)  # version 7
    raw[8] = 0x80 | (raw[8] & 0x3F)  # RFC 9562 variant
    return uuid.UUID(bytes=bytes(raw))


def new_ids(count: int) -> Any:
    """Return ``count`` UUIDv7 keys as a pyarrow string array (``str(uuid)``'s form), ascending.

    The bulk path's vectorised :func:`new_id`; :func:`uuid7_bytes` and :func:`uuid_texts`
    give its two halves.
    """
    return uuid_texts(uuid7_bytes(count))


def uuid7_bytes(count: int) -> Any:
    """Return ``count`` UUIDv7 keys as a (count, 16) uint8 array: one timestamp, random
    tails, sorted bytewise (as PostgreSQL orders uuids) so a chunk's rows go into the index
    in key order."""
    import numpy as np

    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, :6] = np.frombuffer((time.time_ns() // 1_000_000).to_bytes(6, "big"), np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)  # version 7
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)  # RFC 9562 variant
    return np.sort(raw.view("S16").ravel()).view(np.uint8).reshape(count, 16)


def uuid_texts(raw: Any) -> Any:
    """Return (count, 16) uuid bytes as a pyarrow string array in ``str(uuid)``'s form."""
    import binascii

    import numpy as np
    import pyarrow as pa

    count = len(raw)
    digits = np.frombuffer(binascii.hexlify(raw.tobytes()), np.uint8).reshape(count, 32)
    text = np.full((count, 36), ord("-"), dtype=np.uint8)  # 8-4-4-4-12
    for start, end, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at : at + end - start] = digits[:, start:end]
    offsets = np.arange(0, 36 * count + 1, 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class RatioVector(TypeDecorator[dict[str, float]]):
    """One number per ratio of a kind, seen in Python as a dict in the kind's ratio order.

    PostgreSQL stores a ``double precision[]`` in that order: a third of the size of the
    JSONB object it replaced (migration 0007) and about a tenth less of the database's
    time per stored prediction (docs/benchmarks.md). SQLite keeps the JSON object.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION

            return dialect.type_descriptor(ARRAY(DOUBLE_PRECISION()))
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        missing = [name for name in self.names if name not in value]
        if missing:
            raise ValueError(f"a value is needed for every ratio; missing: {', '.join(missing)}")
        return [float(value[name]) for name in self.names]

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        return dict(zip(self.names, value, strict=True))


class Base(DeclarativeBase):
    """The declarative base of every AccuNode table."""

    # Named constraints let later migrations alter them on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_private_folder(folder: Path) -> None:
    """Create the embedded database's folder (and parents) readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


def _create_private_file(url: str) -> None:
    """Create a new SQLite file with mode 0600 (its -wal and -shm files take the same mode)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url: str, *, pool_size: int = 10, timeout: float | None = None) -> Engine:
    """Create the engine for a database URL (SQLite file or PostgreSQL).

    With ``timeout`` (seconds), every wait on PostgreSQL is bounded by about that long: the
    connection (``connect_timeout``), the pool checkout, the server's ``statement_timeout``,
    TCP keepalives for a dead peer, and a client-side deadline on each round trip for a
    database that stalls without closing anything (``storage/deadline.py``).
    """
    if url.startswith("sqlite"):
        _create_private_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: every statement is planned with its actual values.
    # A generic plan made while a table was small (a sequential scan) would otherwise stay
    # cached on the connection as the table grows, until the next ANALYZE; and unprepared
    # statements also work through PgBouncer in transaction mode.
    connect_args: dict[str, Any] = {"prepare_threshold": None}
    bounds: dict[str, Any] = {}
    if timeout is not None:
        connect_args.update(
            connect_timeout=max(1, round(timeout / 2)),
            keepalives=1,
            keepalives_idle=max(1, round(timeout)),
            keepalives_interval=1,
            keepalives_count=3,
            options=f"-c statement_timeout={int(timeout * 1000)}",
        )
        bounds["pool_timeout"] = max(1.0, timeout / 2)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args=connect_args,
        **bounds,
    )
    if timeout is not None:
        from accunode_cli.storage.deadline import install_deadlines

        # A little over statement_timeout: a slow query is cancelled by the server first.
        install_deadlines(engine, timeout + 1)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory bound to an engine (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
