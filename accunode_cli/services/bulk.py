"""Score and store one chunk of a bulk upload: vectorised scoring, set-based writes.

The chunk's rows arrive as raw ratio columns (exactly what ``accunode bulk-score`` feeds the
model, so the probabilities match it to the last bit) plus identity columns already read.
Rows that cannot be scored or identified are rejected with their reason; duplicates of a
company's period follow ``on_conflict`` row by row.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from accunode_cli.errors import AccuNodeError
from accunode_cli.scoring import OK, STATUS_NAMES, clean_column
from accunode_cli.storage.bulk import store_table
from accunode_cli.storage.companies import CompanyIdentity, CompanyRef, resolve_companies
from accunode_cli.storage.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accunode_cli.scoring import PDModel, ScoredBatch

__all__ = ["Identities", "ChunkRows", "ChunkOutcome", "store_chunk", "STATUSES"]

STATUSES = ("stored", "replaced", "conflict", "rejected")


@dataclass
class Identities:
    """Who and when each row is: the identity columns, read, with a reason where unusable."""

    symbols: list[str | None]
    names: list[str | None]
    sectors: list[str | None]
    market_caps: list[float | None]
    years: list[int | None]
    quarters: list[str | None]
    problems: list[tuple[str, str, Any] | None]  # (column, reason, value) of a refused row


@dataclass
class ChunkRows:
    """One chunk: whose it is, where its rows start, and its columns."""

    kind: str
    organization_id: uuid.UUID
    created_by: uuid.UUID | None
    job_id: uuid.UUID
    first_row: int  # 1-based input row number of the chunk's first row
    on_conflict: str
    raw: Mapping[str, Any]  # ratio name -> raw column (what bulk-score passes the model)
    identities: Identities


@dataclass
class ChunkOutcome:
    """Per row, in input order: the prediction id, the status and the reason of a rejection."""

    scored: ScoredBatch
    prediction_ids: list[str | None]
    statuses: list[str]
    errors: list[str | None]
    problems: list[tuple[str, str, Any] | None]  # (column, reason, value) of rejected rows
    counts: dict[str, int] = field(default_factory=dict)


def _companies(
    session: Session, chunk: ChunkRows, rows: np.ndarray
) -> dict[str, CompanyIdentity | AccuNodeError]:
    ident = chunk.identities
    first: dict[str, int] = {}
    for index in rows.tolist():
        first.setdefault(ident.symbols[index] or "", index)
    refs = [
        CompanyRef(
            organization_id=chunk.organization_id,
            symbol=symbol,
            name=ident.names[index],
            sector=ident.sectors[index],
            market_cap=ident.market_caps[index],
            created_by=chunk.created_by,
        )
        for symbol, index in first.items()
    ]
    resolved = resolve_companies(session, refs)
    return dict(zip(first, resolved, strict=True))


def store_chunk(session: Session, *, model: PDModel, chunk: ChunkRows) -> ChunkOutcome:
    """Score a chunk in one call and store its good rows; report every row's outcome."""
    scored = model.score_columns(chunk.raw)
    ident = chunk.identities
    problems = list(ident.problems)
    for index in np.flatnonzero(scored.risk_codes < 0).tolist():
        if problems[index] is None:
            problems[index] = ("", str(scored.row_error[index] or "cannot be scored"), None)
    rows = [index for index, problem in enumerate(problems) if problem is None]
    companies = _companies(session, chunk, np.array(rows, dtype=np.int64)) if rows else {}
    writer: dict[tuple[Any, ...], int] = {}  # period -> the input row (index) that writes it
    order: list[tuple[int, tuple[Any, ...]]] = []
    company_of: dict[int, str] = {}
    texts = {id(c): str(c.id) for c in companies.values() if not isinstance(c, AccuNodeError)}
    for index in rows:
        company = companies[ident.symbols[index] or ""]
        if isinstance(company, AccuNodeError):
            problems[index] = ("company_symbol", company.message, ident.symbols[index])
            continue
        company_of[index] = texts[id(company)]
        key = (company.id, ident.years[index], ident.quarters[index])
        order.append((index, key))
        if key not in writer or chunk.on_conflict == "replace":
            writer[key] = index  # skip: the first row of a period; replace: the last
    written_rows = np.array(sorted(writer.values()), dtype=np.int64)
    table = _table(model, chunk, scored, written_rows, company_of)
    now = utcnow()
    constants = {
        "organization_id": chunk.organization_id,
        "model_version": scored.model_version,
        "created_by": chunk.created_by,
        "created_at": now,
        "updated_at": now,
        "job_id": chunk.job_id,
    }
    stored = store_table(
        session, kind=chunk.kind, table=table, constants=constants, on_conflict=chunk.on_conflict
    )
    written = dict(zip(written_rows.tolist(), stored, strict=True))
    return _outcome(scored, chunk, problems, order, writer, written)


def _table(
    model: PDModel,
    chunk: ChunkRows,
    scored: ScoredBatch,
    rows: np.ndarray,
    company_of: dict[int, str],
) -> Any:
    """Build the stored columns of the written rows as a pyarrow table (no Python per cell
    but the company ids and periods)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from accunode_cli.scoring import RATINGS, RISK_LEVELS

    ident = chunk.identities
    columns: dict[str, Any] = {
        "company_id": pa.array([company_of[i] for i in rows.tolist()], pa.string()),
        "reporting_year": pa.array([ident.years[i] for i in rows.tolist()], pa.int64()),
    }
    if chunk.kind == "quarterly":
        columns["reporting_quarter"] = pa.array(
            [ident.quarters[i] for i in rows.tolist()], pa.string()
        )
    for name in model.ratio_names:
        values = clean_column(chunk.raw[name]).values[rows]
        columns[name] = pa.array(values, pa.float64(), mask=np.isnan(values))
    columns["probability"] = pa.array(scored.probability[rows], pa.float64())
    columns["log_odds"] = pa.array(scored.log_odds[rows], pa.float64())
    columns["risk_level"] = pa.array(np.array(RISK_LEVELS, dtype=object)[scored.risk_codes[rows]])
    columns["implied_rating"] = pa.array(np.array(RATINGS, dtype=object)[scored.rating_codes[rows]])
    names = scored.ratio_names
    parts: list[Any] = []
    for j, name in enumerate(names):
        value = pa.array(np.ascontiguousarray(scored.contributions[rows, j])).cast(pa.string())
        parts += [("{" if j == 0 else ", ") + json.dumps(name) + ": ", value]
    parts.append("}")
    columns["contributions"] = pc.binary_join_element_wise(*parts, "")
    codes = np.zeros(rows.size, dtype=np.int64)
    for j in range(len(names)):
        codes = codes * 4 + scored.status[rows, j]
    columns["flags"] = pa.array(np.array(_flag_json(names), dtype=object)[codes], pa.string())
    columns["row_number"] = pa.array(rows + chunk.first_row, pa.int64())
    return pa.table(columns)


@functools.lru_cache(maxsize=8)
def _flag_json(names: tuple[str, ...]) -> tuple[str, ...]:
    """The flags JSON of every combination of statuses, indexed by its base-4 code."""
    labels = []
    for code in range(4 ** len(names)):
        digits = [(code // 4 ** (len(names) - 1 - j)) % 4 for j in range(len(names))]
        flags = {n: STATUS_NAMES[d] for n, d in zip(names, digits, strict=True) if d != OK}
        labels.append(json.dumps(flags))
    return tuple(labels)


def _outcome(
    scored: ScoredBatch,
    chunk: ChunkRows,
    problems: list[tuple[str, str, Any] | None],
    order: list[tuple[int, tuple[Any, ...]]],
    writer: dict[tuple[Any, ...], int],
    written: dict[int, tuple[Any, str]],
) -> ChunkOutcome:
    n = len(scored)
    ids: list[str | None] = [None] * n
    statuses = ["rejected"] * n
    errors: list[str | None] = [p[1] if p else None for p in problems]
    for index, key in order:
        prediction_id, status = written[writer[key]]
        ids[index] = str(prediction_id)
        if writer[key] != index and chunk.on_conflict == "skip":
            status = "conflict"  # a later row of a period the file already gave
        # (replace: an earlier row of a period was written, then overwritten by the last one)
        statuses[index] = status
        if status == "conflict":
            errors[index] = "a prediction of this company and period already exists"
    counts = {status: statuses.count(status) for status in STATUSES}
    counts["processed"] = n
    return ChunkOutcome(scored, ids, statuses, errors, problems, counts)
