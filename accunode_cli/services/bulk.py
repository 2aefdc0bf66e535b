"""Score and store one chunk of a bulk upload: vectorised scoring, set-based writes.

The chunk's rows arrive as raw ratio columns (exactly what ``accunode bulk-score`` feeds the
model, so the probabilities match it to the last bit) plus identity columns already read.
Rows that cannot be scored or identified are rejected with their reason; duplicates of a
company's period follow ``on_conflict`` row by row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from accunode_cli.errors import AccuNodeError
from accunode_cli.scoring import OK, STATUS_NAMES, clean_column
from accunode_cli.storage.bulk import period_keys, store_rows
from accunode_cli.storage.companies import CompanyIdentity, CompanyRef, resolve_companies
from accunode_cli.storage.db import new_id, utcnow

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


def _json_columns(scored: ScoredBatch, rows: np.ndarray) -> tuple[list[Any], list[Any]]:
    names = scored.ratio_names
    contributions = scored.contributions[rows].tolist()
    status = scored.status[rows].tolist()
    contribution_dicts = [dict(zip(names, values, strict=True)) for values in contributions]
    flags = [
        {name: STATUS_NAMES[code] for name, code in zip(names, codes, strict=True) if code != OK}
        for codes in status
    ]
    return contribution_dicts, flags


def _ratio_values(raw: Mapping[str, Any], names: Sequence[str], rows: np.ndarray) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        cleaned = clean_column(raw[name]).values[rows]
        values[name] = [None if np.isnan(v) else v for v in cleaned.tolist()]
    return values


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
    good = np.array([p is None for p in problems], dtype=bool)
    rows = np.flatnonzero(good)
    companies = _companies(session, chunk, rows) if rows.size else {}
    now = utcnow()
    contributions, flags = _json_columns(scored, rows)
    ratios = _ratio_values(chunk.raw, model.ratio_names, rows)
    keys = period_keys(chunk.kind)
    writer: dict[tuple[Any, ...], int] = {}  # period -> the position (in rows) that writes it
    order: list[tuple[int, tuple[Any, ...]]] = []
    records: list[dict[str, Any]] = []
    probability, log_odds = scored.probability[rows].tolist(), scored.log_odds[rows].tolist()
    risk, rating = _labels(scored, rows)
    for position, index in enumerate(rows.tolist()):
        company = companies[ident.symbols[index] or ""]
        if isinstance(company, AccuNodeError):
            problems[index] = ("company_symbol", company.message, ident.symbols[index])
            continue
        record = {
            "id": new_id(),
            "organization_id": chunk.organization_id,
            "company_id": company.id,
            "reporting_year": ident.years[index],
            "probability": probability[position],
            "log_odds": log_odds[position],
            "risk_level": risk[position],
            "implied_rating": rating[position],
            "contributions": contributions[position],
            "flags": flags[position],
            "model_version": scored.model_version,
            "created_by": chunk.created_by,
            "created_at": now,
            "updated_at": now,
            "job_id": chunk.job_id,
            "row_number": chunk.first_row + index,
            **{name: ratios[name][position] for name in model.ratio_names},
        }
        if chunk.kind == "quarterly":
            record["reporting_quarter"] = ident.quarters[index]
        key = tuple(record[k] for k in keys)
        order.append((index, key))
        if key in writer and chunk.on_conflict == "skip":
            continue  # the first row of a period is written; later ones conflict with it
        if key in writer:
            records[writer[key]] = record  # replace: the last row of a period is written
        else:
            writer[key] = len(records)
            records.append(record)
    written = store_rows(session, kind=chunk.kind, rows=records, on_conflict=chunk.on_conflict)
    return _outcome(scored, chunk, problems, order, writer, records, written)


def _labels(scored: ScoredBatch, rows: np.ndarray) -> tuple[list[str], list[str]]:
    from accunode_cli.scoring import RATINGS, RISK_LEVELS

    risk = [RISK_LEVELS[code] for code in scored.risk_codes[rows].tolist()]
    rating = [RATINGS[code] for code in scored.rating_codes[rows].tolist()]
    return risk, rating


def _outcome(
    scored: ScoredBatch,
    chunk: ChunkRows,
    problems: list[tuple[str, str, Any] | None],
    order: list[tuple[int, tuple[Any, ...]]],
    writer: dict[tuple[Any, ...], int],
    records: list[dict[str, Any]],
    written: list[tuple[uuid.UUID, str]],
) -> ChunkOutcome:
    n = len(scored)
    ids: list[str | None] = [None] * n
    statuses = ["rejected"] * n
    errors: list[str | None] = [p[1] if p else None for p in problems]
    for index, key in order:
        slot = writer[key]
        prediction_id, status = written[slot]
        ids[index] = str(prediction_id)
        if records[slot]["row_number"] != chunk.first_row + index and chunk.on_conflict == "skip":
            status = "conflict"  # a later row of a period the file already gave
        # (replace: an earlier row of a period was written, then overwritten by the last one)
        statuses[index] = status
        if status == "conflict":
            errors[index] = "a prediction of this company and period already exists"
    counts = {status: statuses.count(status) for status in STATUSES}
    counts["processed"] = n
    return ChunkOutcome(scored, ids, statuses, errors, problems, counts)
