"""Score and store one chunk of a bulk upload: vectorised scoring, set-based writes.

The chunk's rows arrive as raw ratio columns (exactly what ``accunode bulk-score`` feeds the
model, so the probabilities match it to the last bit) plus identity columns already read.
Rows that cannot be scored or identified are rejected with their reason; duplicates of a
company's period follow ``on_conflict`` row by row.
"""

from __future__ import annotations

import contextlib
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
from accunode_cli.storage.companies import (
    CompanyRef,
    known_company_ids,
    normalise_symbol,
    resolve_companies,
)
from accunode_cli.storage.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from accunode_cli.scoring import PDModel, ScoredBatch

__all__ = [
    "Identities",
    "ChunkRows",
    "ChunkPlan",
    "ChunkOutcome",
    "plan_chunk",
    "store_chunk",
    "STATUSES",
]

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
) -> dict[str, str | AccuNodeError]:
    """Map each symbol of ``rows`` to its company's id (as text), creating the missing ones."""
    ident = chunk.identities
    first: dict[str, int] = {}
    for index in rows.tolist():
        first.setdefault(ident.symbols[index] or "", index)
    normal = {symbol: normalise_symbol(symbol) for symbol in first}
    known = known_company_ids(
        session, organization_id=chunk.organization_id, symbols=list(normal.values())
    )
    found: dict[str, str | AccuNodeError] = {}
    new: dict[str, int] = {}
    for symbol, index in first.items():
        company_id = known.get(normal[symbol])
        if company_id is None:
            new[symbol] = index
        else:
            found[symbol] = company_id
    # In symbol order: two chunks creating the same companies lock them in the same order.
    new = dict(sorted(new.items(), key=lambda item: normal[item[0]]))
    refs = [
        CompanyRef(
            organization_id=chunk.organization_id,
            symbol=symbol,
            name=ident.names[index],
            sector=ident.sectors[index],
            market_cap=ident.market_caps[index],
            created_by=chunk.created_by,
        )
        for symbol, index in new.items()
    ]
    for symbol, company in zip(new, resolve_companies(session, refs), strict=True):
        found[symbol] = company if isinstance(company, AccuNodeError) else str(company.id)
    return found


@dataclass
class ChunkPlan:
    """A chunk scored, its rows' problems found and its companies found or created."""

    chunk: ChunkRows
    scored: ScoredBatch
    problems: list[tuple[str, str, Any] | None]
    rows: np.ndarray  # positions of the rows to store
    companies: dict[str, str | AccuNodeError]  # symbol -> company id (text) or its refusal


CpuTurn = contextlib.AbstractContextManager[Any]
_NO_TURN = contextlib.nullcontext()  # reusable: callers without threads take no turns


def plan_chunk(
    session: Session, *, model: PDModel, chunk: ChunkRows, cpu: CpuTurn = _NO_TURN
) -> ChunkPlan:
    """Score a chunk in one call and find or create the companies of its good rows.

    The caller commits the companies on their own, before the chunk's transaction: a
    company is harmless without predictions, and a chunk creating the same companies then
    waits for that short transaction only, not for another chunk's whole insert. The
    computing runs inside ``cpu`` (a worker's turn,
    :attr:`accunode_cli.jobs.context.JobContext.cpu`), the statements outside it.
    """
    with cpu:
        scored = model.score_columns(chunk.raw)
        problems = list(chunk.identities.problems)
        for index in np.flatnonzero(scored.risk_codes < 0).tolist():
            if problems[index] is None:
                problems[index] = ("", str(scored.row_error[index] or "cannot be scored"), None)
        rows = np.array([i for i, problem in enumerate(problems) if problem is None], np.int64)
    companies = _companies(session, chunk, rows) if rows.size else {}
    return ChunkPlan(chunk, scored, problems, rows, companies)


def store_chunk(
    session: Session, *, model: PDModel, plan: ChunkPlan, cpu: CpuTurn = _NO_TURN
) -> ChunkOutcome:
    """Store a planned chunk's good rows; report every row's outcome.

    Per row only the identity lookups run in Python; finding each period's writer and
    spreading the stored ids back to the rows are array operations.
    """
    chunk, scored, problems, rows, companies = (
        plan.chunk,
        plan.scored,
        list(plan.problems),
        plan.rows,
        plan.companies,
    )
    ident = chunk.identities
    with cpu:
        symbols = list(companies)  # a company per distinct symbol: its code is its position
        code_of = {symbol: code for code, symbol in enumerate(symbols)}
        codes = np.fromiter(
            (code_of[ident.symbols[i] or ""] for i in rows.tolist()), np.int64, rows.size
        )
        refused = np.array([isinstance(companies[s], AccuNodeError) for s in symbols], dtype=bool)
        if refused.any():
            for index in rows[refused[codes]].tolist():
                error = companies[ident.symbols[index] or ""]
                assert isinstance(error, AccuNodeError)
                problems[index] = ("company_symbol", error.message, ident.symbols[index])
            rows, codes = rows[~refused[codes]], codes[~refused[codes]]
        company_ids = np.array(
            [None if isinstance(c, AccuNodeError) else c for c in companies.values()],
            dtype=object,
        )
        # A period is (company, year, quarter) packed into one integer: years 1900-2200, Q1-Q4.
        years = np.fromiter((ident.years[i] for i in rows.tolist()), np.int64, rows.size)
        quarters = np.fromiter(
            (_QUARTER_CODE[ident.quarters[i]] for i in rows.tolist()), np.int64, rows.size
        )
        periods = (codes << 12) | ((years - 1900) << 3) | quarters
        _, first, period_of = np.unique(periods, return_index=True, return_inverse=True)
        writer = first  # skip: the first row of a period is written
        if chunk.on_conflict == "replace":  # replace: the last one
            writer = np.zeros_like(first)
            np.maximum.at(writer, period_of, np.arange(rows.size))
        written = np.sort(writer)  # positions (in rows) of the written rows, in input order
        table = _table(model, chunk, scored, rows[written], company_ids[codes[written]].tolist())
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
    with cpu:
        return _outcome(scored, chunk, problems, rows, period_of, writer, written, stored)


_QUARTER_CODE = {None: 0, "Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4}


def _table(
    model: PDModel,
    chunk: ChunkRows,
    scored: ScoredBatch,
    rows: np.ndarray,
    company_ids: list[str],
) -> Any:
    """Build the stored columns of the written rows as a pyarrow table (no Python per cell
    but the periods)."""
    import pyarrow as pa

    from accunode_cli.scoring import RATINGS, RISK_LEVELS

    ident = chunk.identities
    columns: dict[str, Any] = {
        "company_id": pa.array(company_ids, pa.string()),
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
    columns["contributions"] = pa.StructArray.from_arrays(
        [pa.array(np.ascontiguousarray(scored.contributions[rows, j])) for j in range(len(names))],
        names=list(names),
    )
    codes = np.zeros(rows.size, dtype=np.int64)
    for j in range(len(names)):
        codes = codes * len(STATUS_NAMES) + scored.status[rows, j]
    columns["flags"] = pa.array(np.array(_flag_json(names), dtype=object)[codes], pa.string())
    columns["row_number"] = pa.array(rows + chunk.first_row, pa.int64())
    return pa.table(columns)


@functools.lru_cache(maxsize=8)
def _flag_json(names: tuple[str, ...]) -> tuple[str, ...]:
    """The flags JSON of every combination of statuses, indexed by its code."""
    labels = []
    base = len(STATUS_NAMES)  # one status per ratio, as the scoring core packs them
    for code in range(base ** len(names)):
        digits = [(code // base ** (len(names) - 1 - j)) % base for j in range(len(names))]
        flags = {n: STATUS_NAMES[d] for n, d in zip(names, digits, strict=True) if d != OK}
        labels.append(json.dumps(flags))
    return tuple(labels)


def _outcome(
    scored: ScoredBatch,
    chunk: ChunkRows,
    problems: list[tuple[str, str, Any] | None],
    rows: np.ndarray,
    period_of: np.ndarray,
    writer: np.ndarray,
    written: np.ndarray,
    stored: list[tuple[Any, str]],
) -> ChunkOutcome:
    """Spread the written rows' ids and statuses to every row of their period."""
    n = len(scored)
    ids = np.full(n, None, dtype=object)
    statuses = np.full(n, "rejected", dtype=object)
    errors = np.array([p[1] if p else None for p in problems], dtype=object)
    if rows.size:
        result_of_period = np.empty(writer.size, np.int64)
        result_of_period[np.searchsorted(written, writer)] = np.arange(writer.size)
        # ^ written is writer sorted: the j-th stored result belongs to period of written[j]
        stored_ids = np.array([prediction_id for prediction_id, _ in stored], dtype=object)
        stored_statuses = np.array([status for _, status in stored], dtype=object)
        result = result_of_period[period_of]
        ids[rows] = [str(i) for i in stored_ids[result]]
        row_statuses = stored_statuses[result]
        if chunk.on_conflict == "skip":  # a later row of a period the file already gave
            row_statuses[writer[period_of] != np.arange(rows.size)] = "conflict"
        # (replace: an earlier row of a period was written, then overwritten by the last one)
        statuses[rows] = row_statuses
        conflicts = rows[row_statuses == "conflict"]
        errors[conflicts] = "a prediction of this company and period already exists"
    status_list = statuses.tolist()
    counts = {status: status_list.count(status) for status in STATUSES}
    counts["processed"] = n
    return ChunkOutcome(scored, ids.tolist(), status_list, errors.tolist(), problems, counts)
