"""Set-based writes of a bulk-upload chunk: every row in a few statements, conflicts row by row.

On PostgreSQL the rows go through ``COPY`` into a temporary staging table (the cells written
as CSV by pyarrow, no Python per row), then one ``INSERT … SELECT … ON CONFLICT`` and one
join say what became of each row. SQLite takes a multi-row insert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from accunode_cli.storage.common import insert_many_unless_exist, select_by_keys
from accunode_cli.storage.db import new_id, new_ids
from accunode_cli.storage.predictions import PREDICTION_CLASSES

__all__ = ["store_rows", "store_table", "period_keys", "KEPT_ON_REPLACE", "STAGED_JSON"]

# A replaced prediction keeps its id, organization, company, creation time and author.
KEPT_ON_REPLACE = frozenset({"id", "organization_id", "company_id", "created_at", "created_by"})
STAGED_JSON = ("contributions", "flags")  # staged as JSON text


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

    ``table`` holds the varying columns (``company_id`` as text, the JSON columns as JSON
    text, ``row_number``); ``constants`` the columns equal in every row (organization, job,
    model version, author, timestamps). Statuses as in :func:`store_rows`; the ids are UUIDs
    or their text.
    """
    if table.num_rows == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _copy_and_insert(session, kind, table, constants, on_conflict)
    rows = []
    for row in table.to_pylist():
        row["company_id"] = uuid.UUID(row["company_id"])
        for name in STAGED_JSON:
            row[name] = json.loads(row[name])
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
_PG_TYPES = {"int64": "bigint", "double": "double precision", "string": "text"}


def _copy_and_insert(
    session: Session, kind: str, table: Any, constants: dict[str, Any], on_conflict: str
) -> list[tuple[Any, str]]:
    import io

    import pyarrow.csv as pcsv

    target = PREDICTION_CLASSES[kind].__tablename__
    stage = f"accunode_stage_{kind}"
    table = table.append_column("id", new_ids(table.num_rows))
    names = list(table.schema.names)
    columns = ", ".join(
        f'"{n}" {_PG_TYPES[str(t)]}' for n, t in zip(names, table.schema.types, strict=True)
    )
    session.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS")
    )
    session.execute(text(f"TRUNCATE {stage}"))
    buffer = io.BytesIO()
    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{n}"' for n in names)
    with cursor.copy(f"COPY {stage} ({quoted}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())
    keys = period_keys(kind)
    values = {**constants}
    select_list = [f"CAST(:{name} AS {_CONSTANT_TYPES[name]})" for name in constants]
    insert_names = [*constants]
    for name in names:
        insert_names.append(name)
        if name in ("id", "company_id"):
            select_list.append(f"s.{name}::uuid")
        elif name in STAGED_JSON:
            select_list.append(f"s.{name}::jsonb")
        else:
            select_list.append(f"s.{name}")
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    if on_conflict == "replace":
        changed = [n for n in insert_names if n not in KEPT_ON_REPLACE]
        sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in changed)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    # The ids are ours, so only the rows that did not go in as new come back: a replaced row
    # (it keeps its id); under skip, the count of new rows says whether any conflicted.
    insert = (
        f"INSERT INTO {target} ({', '.join(insert_names)}) "
        f"SELECT {', '.join(select_list)} FROM {stage} s {conflict} "
    )
    outcome: dict[int, tuple[Any, str]] = {}
    if on_conflict == "replace":
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
        join = " AND ".join(
            f"p.{k} = s.{k}::uuid" if k == "company_id" else f"p.{k} = s.{k}" for k in keys
        )
        found = session.execute(
            text(
                f"SELECT s.row_number, p.id::text, p.job_id = :job_id "
                f"AND p.row_number = s.row_number FROM {stage} s JOIN {target} p ON {join} "
                "WHERE p.id <> s.id::uuid"
            ),
            {"job_id": constants["job_id"]},
        ).all()
        for row_number, prediction_id, ours in found:
            # ours: this chunk stored it before (a rerun)
            outcome[row_number] = (prediction_id, "stored" if ours else "conflict")
    ids = table.column("id").to_pylist()
    return [
        outcome.get(row_number) or (ids[index], "stored")
        for index, row_number in enumerate(table.column("row_number").to_pylist())
    ]
