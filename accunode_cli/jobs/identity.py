"""Identity columns of a bulk row (symbol, name, sector, market cap, year, quarter), read like
the single-prediction body: a row without a symbol or a usable year is refused, not guessed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from accunode_cli.errors import ColumnError, InputError
from accunode_cli.scoring import fold_column_name, normalise_quarter
from accunode_cli.services.bulk import Identities

__all__ = ["IDENTITY_FIELDS", "identity_columns", "check_identity_columns", "read_identities"]

IDENTITY_FIELDS = (
    "company_symbol",
    "company_name",
    "sector",
    "market_cap",
    "reporting_year",
    "reporting_quarter",
)
_LIMITS = {"company_symbol": 32, "company_name": 200, "sector": 100}


# Headers that exports give identity columns (Capital IQ, Bloomberg, FactSet), folded.
_SYNONYMS = {
    "ticker": "company_symbol",
    "symbol": "company_symbol",
    "ticker_symbol": "company_symbol",
    "name": "company_name",
    "company": "company_name",
    "year": "reporting_year",
    "fiscal_year": "reporting_year",
    "quarter": "reporting_quarter",
    "fiscal_quarter": "reporting_quarter",
    "market_capitalization": "market_cap",
}


def identity_columns(names: Sequence[str]) -> dict[str, str]:
    """Map each identity field found among ``names`` (matched like ratio columns, and by the
    usual export headers: Ticker, Name, Year...) to its column; an exact name wins."""
    found: dict[str, str] = {}
    for exact in (True, False):
        for name in names:
            key = fold_column_name(name)
            field = key if exact else _SYNONYMS.get(key, "")
            if field in IDENTITY_FIELDS and field not in found:
                found[field] = name
    return found


def check_identity_columns(
    names: Sequence[str],
    *,
    kind: str,
    source: str,
    reporting_year: int | None,
    reporting_quarter: str | None,
) -> None:
    """Refuse a file that can identify no row: no symbol column, or no year (nor a default)."""
    found = identity_columns(names)
    needed: list[tuple[str, object]] = [
        ("company_symbol", None),
        ("reporting_year", reporting_year),
    ]
    if kind == "quarterly":
        needed.append(("reporting_quarter", reporting_quarter))
    missing = [field for field, default in needed if field not in found and default is None]
    if missing:
        raise ColumnError(
            f"{source} has no {', '.join(missing)} column; add it, or give reporting_year "
            "(and reporting_quarter) with the upload when every row shares the period",
            details={"missing": missing, "columns": list(names)},
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _year(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or not 1900 <= number <= 2200:
        return None
    return int(number)


def _number(value: Any) -> float | None:
    text = _text(value)
    if text is None:
        return None
    number = float(text.replace(",", ""))
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def read_identities(
    batch: Any,
    *,
    kind: str,
    reporting_year: int | None,
    reporting_quarter: str | None,
) -> Identities:
    """Read the identity columns of a record batch; each unusable row gets its reason.

    Each distinct cell of a column is read once (a chunk of 65,536 rows names some thousands
    of companies and a few years), then spread to its rows by array indexing. A row's reason
    is the first that applies of: no symbol, a symbol, name or sector too long, no usable
    year, no quarter (quarterly), a market cap that is not a number.
    """
    n = batch.num_rows
    columns = identity_columns(batch.schema.names)
    checks: list[tuple[np.ndarray, np.ndarray]] = []  # (per-row reason, has one), by priority

    def read(field: str, parse: Any, default: Any = None) -> np.ndarray:
        """Parse each distinct cell of a field's column: each row's value; keep the reasons."""
        column = columns.get(field)
        if column is None:
            values, codes = [default], np.zeros(n, np.int64)
        else:
            values, codes = _distinct(batch.column(column))
        parsed = np.empty(len(values), dtype=object)
        reasons = np.empty(len(values), dtype=object)
        for j, value in enumerate(values):
            parsed[j], reasons[j] = parse(value)
        has = np.array([reason is not None for reason in reasons], dtype=bool)
        checks.append((reasons[codes], has[codes]))
        return parsed[codes]

    symbols = read("company_symbol", _symbol)
    names = read("company_name", lambda value: _bounded("company_name", value))
    sectors = read("sector", lambda value: _bounded("sector", value))
    years = read("reporting_year", _checked_year, default=reporting_year)
    quarters = np.full(n, None, dtype=object)
    if kind == "quarterly":
        quarters = read("reporting_quarter", _quarter, default=reporting_quarter)
    caps = read("market_cap", _cap)
    problems = np.full(n, None, dtype=object)
    for reasons, has in reversed(checks):  # the first reason in priority order wins
        problems[has] = reasons[has]
    return Identities(
        symbols=symbols.tolist(),
        names=names.tolist(),
        sectors=sectors.tolist(),
        market_caps=caps.tolist(),
        years=years.tolist(),
        quarters=quarters.tolist(),
        problems=problems.tolist(),
    )


Parsed = tuple[Any, tuple[str, str, Any] | None]


def _bounded(field: str, value: Any) -> Parsed:
    text = _text(value)
    if text is not None and len(text) > _LIMITS[field]:
        return text, (field, f"{field} is longer than {_LIMITS[field]} characters", text)
    return text, None


def _symbol(value: Any) -> Parsed:
    text, problem = _bounded("company_symbol", value)
    if text is None:
        return None, ("company_symbol", "company_symbol is missing", value)
    return text.upper(), problem


_NO_YEAR = "reporting_year is missing or not a year between 1900 and 2200"


def _checked_year(value: Any) -> Parsed:
    year = _year(value)
    return year, None if year is not None else ("reporting_year", _NO_YEAR, value)


def _quarter(value: Any) -> Parsed:
    try:
        return normalise_quarter(_text(value) or ""), None
    except InputError:
        return None, ("reporting_quarter", "reporting_quarter is not one of Q1..Q4", value)


def _cap(value: Any) -> Parsed:
    try:
        return _number(value), None
    except ValueError:
        return None, ("market_cap", "market_cap is not a number", value)


def _distinct(column: Any) -> tuple[list[Any], np.ndarray]:
    """A column's distinct cells (as Python values) and each row's index among them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        encoded = (
            column
            if pa.types.is_dictionary(column.type)
            else pc.dictionary_encode(column, null_encoding="encode")
        )
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # a type arrow cannot hash
        return column.to_pylist(), np.arange(len(column))
    values = encoded.dictionary.to_pylist()
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(values))
        values.append(None)
    return values, indices.to_numpy(zero_copy_only=False).astype(np.int64)
