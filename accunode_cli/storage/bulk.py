"""Set-based writes of a bulk-upload chunk: every row in a few statements, conflicts row by row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from accunode_cli.storage.common import insert_many_unless_exist, select_by_keys
from accunode_cli.storage.predictions import PREDICTION_CLASSES

__all__ = ["store_rows", "period_keys", "KEPT_ON_REPLACE"]

# A replaced prediction keeps its id, organization, company, creation time and author.
KEPT_ON_REPLACE = frozenset({"id", "organization_id", "company_id", "created_at", "created_by"})


def period_keys(kind: str) -> list[str]:
    """Return the columns that identify a company's period (the unique constraint)."""
    return ["company_id", "reporting_year"] + (["reporting_quarter"] if kind == "quarterly" else [])


def store_rows(
    session: Session, *, kind: str, rows: Sequence[dict[str, Any]], on_conflict: str
) -> list[tuple[uuid.UUID, str]]:
    """Insert rows of distinct periods; return (prediction id, status) for each, in order.

    Status is ``stored`` (inserted), ``replaced`` (``on_conflict="replace"``: the stored
    prediction of that period took the row's values and kept its id) or ``conflict``
    (``"skip"``: the stored prediction's id). A row already stored under the same job and
    row number (a chunk run twice) counts as stored. PostgreSQL takes the rows as one
    array per column (``unnest``); SQLite as one multi-row statement.
    """
    if not rows:
        return []
    cls = PREDICTION_CLASSES[kind]
    keys = period_keys(kind)
    inserted = {row.id for row in insert_many_unless_exist(session, cls, rows, keys, ["id"])}
    lost = [row for row in rows if row["id"] not in inserted]
    existing: dict[tuple[Any, ...], tuple[uuid.UUID, Any, Any]] = {}
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
