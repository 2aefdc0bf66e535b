"""Identity columns of a bulk row (symbol, name, sector, market cap, year, quarter), read like
the single-prediction body: a row without a symbol or a usable year is refused, not guessed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
    """Read the identity columns of a record batch; each unusable row gets its reason."""
    n = batch.num_rows
    columns = identity_columns(batch.schema.names)

    def values(field: str) -> list[Any]:
        column = columns.get(field)
        return batch.column(column).to_pylist() if column else [None] * n

    symbols_in, names_in, sectors_in = (
        values("company_symbol"),
        values("company_name"),
        values("sector"),
    )
    caps_in, years_in, quarters_in = (
        values("market_cap"),
        values("reporting_year"),
        values("reporting_quarter"),
    )
    ident = Identities([], [], [], [], [], [], [])
    for i in range(n):
        problem: tuple[str, str, Any] | None = None
        symbol, name, sector = _text(symbols_in[i]), _text(names_in[i]), _text(sectors_in[i])
        for field, text in (("company_symbol", symbol), ("company_name", name), ("sector", sector)):
            if text is not None and len(text) > _LIMITS[field] and problem is None:
                problem = (field, f"{field} is longer than {_LIMITS[field]} characters", text)
        if symbol is None:
            problem = ("company_symbol", "company_symbol is missing", symbols_in[i])
        year = _year(years_in[i]) if "reporting_year" in columns else reporting_year
        if year is None and problem is None:
            problem = (
                "reporting_year",
                "reporting_year is missing or not a year between 1900 and 2200",
                years_in[i],
            )
        quarter = None
        if kind == "quarterly":
            raw = quarters_in[i] if "reporting_quarter" in columns else reporting_quarter
            try:
                quarter = normalise_quarter(_text(raw) or "")
            except InputError:
                if problem is None:
                    problem = ("reporting_quarter", "reporting_quarter is not one of Q1..Q4", raw)
        try:
            cap = _number(caps_in[i])
        except ValueError:
            cap = None
            if problem is None:
                problem = ("market_cap", "market_cap is not a number", caps_in[i])
        ident.symbols.append(symbol.upper() if symbol else None)
        ident.names.append(name)
        ident.sectors.append(sector)
        ident.market_caps.append(cap)
        ident.years.append(year)
        ident.quarters.append(quarter)
        ident.problems.append(problem)
    return ident
