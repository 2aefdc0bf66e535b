"""Set-based writes of a bulk-upload chunk: every row in a few statements, conflicts row by row.

On PostgreSQL the rows go through a binary ``COPY`` into a temporary staging table (one numpy
array, no Python per row), then a plain ``INSERT … SELECT`` (``… ON CONFLICT`` when a row meets
a stored period) and, only if some did, one join say what became of each row. SQLite takes a
multi-row insert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from accunode_cli.storage.common import insert_many_unless_exist, select_by_keys, vector_names
from accunode_cli.storage.db import new_id, uuid7_bytes, uuid_texts
from accunode_cli.storage.predictions import PREDICTION_CLASSES

__all__ = ["store_rows", "store_table", "period_keys", "KEPT_ON_REPLACE"]

# A replaced prediction keeps its id, organization, company, creation time and author.
KEPT_ON_REPLACE = frozenset({"id", "organization_id", "company_id", "created_at", "created_by"})


def period_keys(kind: str) -> list[str]:
    """Return the columns that identify a company's period (the unique constraint)."""
    return ["company_id", "reporting_year"] + (["reporting_quarter"] if kind == "quarterly" else [])


def store_table(
    session: Session,
    *,
    kind: str,
    table: Any,
    constants: dict[str, Any],
    on_conflict: str,
) -> list[tuple[Any, str]]:
    """Store a pyarrow table of rows of distinct periods; return (id, status) per row.

    ``table`` holds the varying columns (``company_id`` as text, ``contributions`` as a
    struct of floats, ``flags`` as JSON text, ``row_number``); ``constants`` the columns
    equal in every row (organization, job, model version, author, timestamps). Statuses as
    in :func:`store_rows`; the ids are UUIDs or their text.
    """
    if table.num_rows == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _copy_and_insert(session, kind, table, constants, on_conflict)
    rows = []
    for row in table.to_pylist():
        row["company_id"] = uuid.UUID(row["company_id"])
        row["flags"] = json.loads(row["flags"])  # (contributions: a struct, read as a dict)
        rows.append({"id": new_id(), **constants, **row})
    return store_rows(session, kind=kind, rows=rows, on_conflict=on_conflict)


def store_rows(
    session: Session, *, kind: str, rows: Sequence[dict[str, Any]], on_conflict: str
) -> list[tuple[uuid.UUID, str]]:
    """Insert rows of distinct periods; return (prediction id, status) for each, in order.

    Status is ``stored`` (inserted), ``replaced`` (``on_conflict="replace"``: the stored
    prediction of that period took the row's values and kept its id) or ``conflict``
    (``"skip"``: the stored prediction's id). A row already stored under the same job and
    row number (a chunk run twice) counts as stored.
    """
    if not rows:
        return []
    cls = PREDICTION_CLASSES[kind]
    keys = period_keys(kind)
    inserted = {row.id for row in insert_many_unless_exist(session, cls, rows, keys, ["id"])}
    lost = [row for row in rows if row["id"] not in inserted]
    existing: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    if lost:
        found = select_by_keys(
            session,
            cls,
            keys,
            [tuple(row[key] for key in keys) for row in lost],
            ["id", "job_id", "row_number", *keys],
        )
        existing = {tuple(found_row[3:]): tuple(found_row[:3]) for found_row in found}
    results: list[tuple[uuid.UUID, str]] = []
    changes: list[dict[str, Any]] = []
    for row in rows:
        if row["id"] in inserted:
            results.append((row["id"], "stored"))
            continue
        other_id, job_id, row_number = existing[tuple(row[key] for key in keys)]
        if job_id == row.get("job_id") and row_number == row.get("row_number"):
            results.append((other_id, "stored"))
        elif on_conflict == "replace":
            changes.append(
                {"id": other_id, **{k: v for k, v in row.items() if k not in KEPT_ON_REPLACE}}
            )
            results.append((other_id, "replaced"))
        else:
            results.append((other_id, "conflict"))
    if changes:
        session.execute(update(cls), changes)  # ORM bulk UPDATE by primary key
    return results


_CONSTANT_TYPES = {
    "organization_id": "uuid",
    "created_by": "uuid",
    "job_id": "uuid",
    "model_version": "text",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
# Staged as codes into a per-chunk list of their values (1-based, as SQL arrays are).
_CODED = {
    "reporting_quarter": "text",
    "risk_level": "text",
    "implied_rating": "text",
    "flags": "jsonb",
}


def _copy_and_insert(
    session: Session, kind: str, table: Any, constants: dict[str, Any], on_conflict: str
) -> list[tuple[Any, str]]:
    """COPY the rows in PostgreSQL's binary format into a temporary table, then one
    ``INSERT … SELECT … ON CONFLICT``: no cell is printed as text and parsed back; text and
    JSON columns travel as codes into a per-chunk list of their values, the contributions as
    one number per ratio that ``ARRAY[…]`` assembles in the column's order."""
    import pyarrow.compute as pc

    target = PREDICTION_CLASSES[kind].__tablename__
    stage = f"accunode_stage_{kind}"
    raw_ids = uuid7_bytes(table.num_rows)
    fixed: list[tuple[str, str, Any]] = [  # (column, staged type, values)
        ("id", "uuid", raw_ids),
        ("company_id", "uuid", _uuid_bytes(table.column("company_id"))),
        ("row_number", "integer", table.column("row_number").to_numpy()),
    ]
    values: dict[str, Any] = {**constants}
    select: dict[str, str] = {
        name: f"CAST(:{name} AS {_CONSTANT_TYPES[name]})" for name in constants
    }
    select.update(id="s.id", company_id="s.company_id", row_number="s.row_number")
    for name, column in zip(table.schema.names, table.columns, strict=True):
        if name in ("company_id", "row_number"):
            continue
        if name == "contributions":  # a struct of floats: one staged column per ratio
            parts = column.combine_chunks()
            staged_of = {}
            for number, field in enumerate(parts.type):
                staged_of[field.name] = f"contribution_{number}"
                numbers = parts.field(number).to_numpy()
                fixed.append((f"contribution_{number}", "double precision", numbers))
            order = vector_names(PREDICTION_CLASSES[kind].__table__, "contributions")
            select[name] = f"ARRAY[{', '.join(f's.{staged_of[n]}' for n in order)}]"
            continue
        if name in _CODED:
            encoded = pc.dictionary_encode(column).combine_chunks()
            fixed.append((name, "smallint", encoded.indices.to_numpy() + 1))
            values[f"{name}_values"] = encoded.dictionary.to_pylist()
            select[name] = f"(CAST(:{name}_values AS {_CODED[name]}[]))[s.{name}]"
        elif name == "reporting_year":
            fixed.append((name, "integer", column.to_numpy()))
            select[name] = f"s.{name}"
        else:  # a ratio (NULL staged as NaN, which no stored ratio is), probability, log-odds
            numbers = column.to_numpy(zero_copy_only=False)
            fixed.append((name, "double precision", numbers))
            select[name] = f"NULLIF(s.{name}, 'NaN')" if column.null_count else f"s.{name}"
    staged = [name for name, _, _ in fixed]
    columns = ", ".join(f"{name} {kind_}" for name, kind_, _ in fixed)
    session.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS")
    )
    session.execute(text(f"TRUNCATE {stage}"))
    rows = _binary_rows(fixed, table.num_rows)
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {stage} ({', '.join(staged)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(_BINARY_HEADER)
        copy.write(memoryview(rows).cast("B"))  # the array's own bytes, not a copy
        copy.write(_BINARY_TRAILER)
    keys = period_keys(kind)
    insert_names = list(select)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    if on_conflict == "replace":
        changed = [n for n in insert_names if n not in KEPT_ON_REPLACE]
        sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in changed)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    plain = (
        f"INSERT INTO {target} ({', '.join(insert_names)}) "
        f"SELECT {', '.join(select.values())} FROM {stage} s"
    )
    # The ids are ours, so only the rows that did not go in as new come back: a replaced row
    # (it keeps its id); under skip, the count of new rows says whether any conflicted.
    insert = f"{plain} {conflict}"
    outcome: dict[int, tuple[Any, str]] = {}
    if _insert_unless_taken(session, plain, values):
        new_rows = table.num_rows  # no row took a stored period: all are new
    elif on_conflict == "replace":
        replaced = session.execute(
            text(
                f"WITH written AS ({insert} RETURNING row_number, id, xmax = 0 AS fresh) "
                "SELECT row_number, id::text FROM written WHERE NOT fresh"
            ),
            values,
        ).all()
        outcome = {row: (prediction_id, "replaced") for row, prediction_id in replaced}
        new_rows = table.num_rows
    else:
        new_rows = session.execute(text(insert), values).rowcount  # type: ignore[attr-defined]
    if new_rows < table.num_rows:  # skip: the rest conflicted with stored predictions
        join = " AND ".join(f"p.{k} = {select[k]}" for k in keys)
        found = session.execute(
            text(
                f"SELECT s.row_number, p.id::text, p.job_id = CAST(:job_id AS uuid) "
                f"AND p.row_number = s.row_number FROM {stage} s JOIN {target} p ON {join} "
                "WHERE p.id <> s.id"
            ),
            values,
        ).all()
        for row_number, prediction_id, ours in found:
            # ours: this chunk stored it before (a rerun)
            outcome[row_number] = (prediction_id, "stored" if ours else "conflict")
    ids = uuid_texts(raw_ids).to_pylist()
    return [
        outcome.get(row_number) or (ids[index], "stored")
        for index, row_number in enumerate(table.column("row_number").to_pylist())
    ]


def _insert_unless_taken(session: Session, insert: str, values: dict[str, Any]) -> bool:
    """Run a plain ``INSERT`` in a savepoint; False (and nothing written) if a row's period
    or (job, row number) is taken.

    A new chunk's rows rarely meet a stored prediction, and a plain insert costs the
    database about a sixth less than ``ON CONFLICT``, which checks each key before it
    writes (3.8 s per million rows here, docs/benchmarks.md). A file of stored periods
    fails at its first row, so the fallback to ``ON CONFLICT`` costs little.
    """
    from psycopg.errors import UniqueViolation
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.execute(text(insert), values)
    except IntegrityError as error:
        if isinstance(error.orig, UniqueViolation):
            return False
        raise
    return True


def _uuid_bytes(column: Any) -> Any:
    """The (rows, 16) bytes of a column of uuid texts (each distinct one parsed once)."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column).combine_chunks()
    distinct = np.frombuffer(
        b"".join(uuid.UUID(t).bytes for t in encoded.dictionary.to_pylist()), np.uint8
    ).reshape(-1, 16)
    return distinct[encoded.indices.to_numpy()]


_BINARY_TYPES = {"uuid": "V16", "integer": ">i4", "smallint": ">i2", "double precision": ">f8"}


# PostgreSQL's binary COPY: signature, flags, header extension length; a field count of -1 ends.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_BINARY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _binary_rows(fixed: list[tuple[str, str, Any]], rows: int) -> Any:
    """The rows of PostgreSQL's binary COPY stream for fixed-width columns, as one numpy
    structured array (no Python per row): per row a field count, then per field its byte
    length and its big-endian bytes."""
    import numpy as np

    layout = [("fields", ">i2")]
    for number, (_, kind, _) in enumerate(fixed):
        layout += [(f"n{number}", ">i4"), (f"v{number}", _BINARY_TYPES[kind])]
    body = np.zeros(rows, dtype=np.dtype(layout))
    body["fields"] = len(fixed)
    for number, (_, kind, column) in enumerate(fixed):
        body[f"n{number}"] = np.dtype(_BINARY_TYPES[kind]).itemsize
        if kind == "uuid":
            body[f"v{number}"] = np.ascontiguousarray(column).view("V16").ravel()
        else:
            body[f"v{number}"] = column
    return body
