"""Helpers shared by the repositories: tenant-scoped lookups, pages, sorting, constraint races."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, Table, and_, bindparam, cast, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accunode_cli.errors import NotFoundError, UsageError

__all__ = [
    "Page",
    "get_scoped",
    "paginate",
    "order_by",
    "insert_or_conflict",
    "insert_unless_exists",
    "dialect_insert",
    "insert_many_unless_exist",
    "select_by_keys",
    "lock_row",
    "vector_names",
    "MAX_PAGE_SIZE",
]

T = TypeVar("T")
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the total number of matching rows."""

    items: Sequence[T]
    total: int
    page: int
    size: int


def get_scoped(session: Session, model: type[T], *, organization_id: uuid.UUID, id: uuid.UUID) -> T:
    """Return the row of ``model`` with ``id`` in the organization, or raise NotFoundError."""
    query: Select[Any] = select(model).where(
        model.id == id,  # type: ignore[attr-defined]
        model.organization_id == organization_id,  # type: ignore[attr-defined]
    )
    row: T | None = session.scalar(query)
    if row is None:
        raise NotFoundError(f"{model.__name__.lower()} not found", details={"id": str(id)})
    return row


def paginate(session: Session, query: Select[Any], *, page: int, size: int) -> Page[Any]:
    """Run ``query`` for one page (1-based) and count every matching row."""
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise UsageError(f"page must be >= 1 and size between 1 and {MAX_PAGE_SIZE}")
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return Page(items=items, total=int(total or 0), page=page, size=size)


def order_by(query: Select[Any], model: type, sort: str, allowed: Sequence[str]) -> Select[Any]:
    """Sort by ``sort`` ("field" or "-field" for descending), one of ``allowed``; id breaks ties."""
    name = sort.lstrip("-")
    if name not in allowed:
        raise UsageError(
            f"cannot sort by {name!r}", details={"sort": sort, "allowed": list(allowed)}
        )
    column = getattr(model, name)
    primary = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(primary, model.id.asc())  # type: ignore[attr-defined]


def insert_or_conflict(session: Session, row: T, on_conflict: Callable[[], Exception]) -> T:
    """Insert ``row`` in a savepoint; a unique-constraint violation raises ``on_conflict()``."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise on_conflict() from exc
    return row


def dialect_insert(session: Session) -> Callable[..., Any]:
    """Return the database's ``insert`` construct, the one with ``on_conflict_do_nothing``."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    inserts: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if dialect not in inserts:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"unsupported database dialect {dialect!r}")
    return inserts[dialect]


def insert_unless_exists(
    session: Session, model: type[T], values: dict[str, Any], conflict_columns: Sequence[str]
) -> T | None:
    """Insert one row with ON CONFLICT DO NOTHING RETURNING it; None when the key exists.

    One statement and no savepoint: two racing inserts of the same key cannot both succeed,
    and the loser learns it without an exception poisoning the transaction.
    """
    insert = dialect_insert(session)
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
        .returning(model)
    )
    return session.scalars(statement).first()


def insert_many_unless_exist(
    session: Session,
    model: type,
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
    returning: Sequence[str],
) -> Sequence[Row[Any]]:
    """Insert many rows with ON CONFLICT DO NOTHING; return ``returning`` of the rows inserted.

    Every row gives the same columns, and should give the key: rows that conflict (with a
    stored row or an earlier one of the list) are skipped and absent from the result. On
    PostgreSQL the rows travel as one array per column through ``unnest``: a short statement
    whose text does not depend on the number of rows, so it is parsed and prepared once, not
    once per batch size as a multi-row VALUES list would be; a column with one value in every
    row (a batch's timestamp or model version) is sent once, not as an array. SQLite takes
    the VALUES list.
    """
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    names = tuple(rows[0])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        first = rows[0]
        shared = tuple(name for name in names[1:] if all(row[name] == first[name] for row in rows))
        statement = _unnest_insert(table, names, shared, tuple(conflict_columns), tuple(returning))
        values: dict[str, Any] = {}
        for name in names:
            vector = vector_names(table, name)
            if name in shared:
                values[name] = first[name]
            elif vector:  # one array per element (unnest would flatten an array of arrays)
                for i, element in enumerate(vector):
                    values[f"{name}__{i}"] = [float(row[name][element]) for row in rows]
            else:
                values[name] = [row[name] for row in rows]
        return session.execute(statement, values).all()
    insert = dialect_insert(session)(table)
    returned = insert.on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(
        *(table.c[name] for name in returning)
    )
    return session.execute(returned, list(rows)).all()


@functools.lru_cache(maxsize=64)
def _unnest_insert(
    table: Table,
    names: tuple[str, ...],
    shared: tuple[str, ...],
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
) -> Any:
    from sqlalchemy.dialects import postgresql

    varying = [name for name in names if name not in shared]  # never empty: names[0] varies
    arrays, columns = [], []
    for name in varying:
        vector = vector_names(table, name)
        if vector:
            numbers: Any = postgresql.ARRAY(postgresql.DOUBLE_PRECISION())
            for i in range(len(vector)):
                arrays.append(bindparam(f"{name}__{i}", type_=numbers))
                columns.append(f"{name}__{i}")
        else:
            arrays.append(bindparam(name, type_=postgresql.ARRAY(table.c[name].type)))
            columns.append(name)
    unnested = func.unnest(*arrays).table_valued(*columns).render_derived()

    def value(name: str) -> Any:
        if name in shared:
            return cast(bindparam(name, type_=table.c[name].type), table.c[name].type)
        vector = vector_names(table, name)
        if vector:
            return postgresql.array([unnested.c[f"{name}__{i}"] for i in range(len(vector))])
        return unnested.c[name]

    rows = select(*(value(name) for name in names))
    return (
        postgresql.insert(table)
        .from_select(list(names), rows)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(*(table.c[name] for name in returning))
    )


def vector_names(table: Any, name: str) -> tuple[str, ...]:
    """The element names of a :class:`RatioVector` column (an array on PostgreSQL), else ()."""
    from accunode_cli.storage.db import RatioVector

    column_type = table.c[name].type
    return column_type.names if isinstance(column_type, RatioVector) else ()


def select_by_keys(
    session: Session,
    model: type,
    key_columns: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
    columns: Sequence[str],
) -> Sequence[Row[Any]]:
    """Return ``columns`` of the rows whose ``key_columns`` equal one of ``keys``.

    On PostgreSQL the keys travel as arrays joined through ``unnest``: the statement's text
    does not depend on how many keys there are (a ``(a, b) IN (...)`` list is a new statement
    for every length). SQLite takes the IN list.
    """
    if not keys:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        statement = _unnest_select(table, tuple(key_columns), tuple(columns))
        arrays = {name: [key[i] for key in keys] for i, name in enumerate(key_columns)}
        return session.execute(statement, arrays).all()
    wanted = tuple_(*(table.c[name] for name in key_columns)).in_(list(keys))
    return session.execute(select(*(table.c[name] for name in columns)).where(wanted)).all()


@functools.lru_cache(maxsize=64)
def _unnest_select(table: Table, key_columns: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    from sqlalchemy.dialects import postgresql

    arrays = [bindparam(name, type_=postgresql.ARRAY(table.c[name].type)) for name in key_columns]
    keys = func.unnest(*arrays).table_valued(*key_columns).render_derived()
    match = and_(*(table.c[name] == keys.c[name] for name in key_columns))
    return select(*(table.c[name] for name in columns)).select_from(table.join(keys, match))


def lock_row(session: Session, model: type, id: uuid.UUID) -> bool:
    """Lock one row until the transaction ends, so a check-then-write on it cannot interleave.

    PostgreSQL: ``SELECT … FOR UPDATE``, after which each new statement of the transaction
    (READ COMMITTED) sees what the previous holder committed. SQLite has no row locks: a no-op
    ``UPDATE`` takes the database's single write lock (waiting out the busy timeout), the
    same effect as an immediate transaction. Returns whether the row exists.
    """
    key = model.id  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        result = session.execute(update(model).where(key == id).values(id=key))
        return bool(result.rowcount)  # type: ignore[attr-defined]
    return session.scalar(select(key).where(key == id).with_for_update()) is not None
