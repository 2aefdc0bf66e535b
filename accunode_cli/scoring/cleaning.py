"""Turn raw input cells into model-ready floats in one vectorised step.

Every cell ends in one of four states, kept per row and ratio so the output can say why a
value was not used:

* ``OK``: a finite number below the sentinel magnitude;
* ``MISSING``: null, blank, NaN or a missing token (NM is *not* one: see below);
* ``NOT_MEANINGFUL``: NM / N/M, +-inf, or a sentinel magnitude (``|x| >= 1e7``) that exporters
  write for a ratio whose denominator is zero or negative;
* ``INVALID``: text that is neither a number nor a known token. The row cannot be scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OK",
    "MISSING",
    "NOT_MEANINGFUL",
    "INVALID",
    "STATUS_NAMES",
    "SENTINEL_MAGNITUDE",
    "MISSING_TOKENS",
    "NOT_MEANINGFUL_TOKENS",
    "CleanColumn",
    "clean_column",
    "apply_floor",
]

OK, MISSING, NOT_MEANINGFUL, INVALID = 0, 1, 2, 3
STATUS_NAMES = {OK: "ok", MISSING: "missing", NOT_MEANINGFUL: "not_meaningful", INVALID: "invalid"}
SENTINEL_MAGNITUDE = 1e7

MISSING_TOKENS = (
    "", "nan", "n/a", "na", "n.a.", "n.a", "#n/a", "-", "--", "---", "\u2014", "\u2013",
    "none", "null", "nil", "missing", "?",
)  # fmt: skip
NOT_MEANINGFUL_TOKENS = (
    "nm", "n/m", "n.m.", "n.m", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
    "#div/0!", "#num!",
)  # fmt: skip

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_PARENTHESISED = r"^\((.*)\)$"


@dataclass(frozen=True)
class CleanColumn:
    """One cleaned column: float values (NaN unless OK) and a status code per row."""

    values: np.ndarray  # float64
    status: np.ndarray  # int8, one of OK, MISSING, NOT_MEANINGFUL, INVALID

    def __len__(self) -> int:
        return len(self.values)


def _clean_numeric(raw: np.ndarray, null_mask: np.ndarray | None = None) -> CleanColumn:
    values = np.asarray(raw, dtype=np.float64).copy()
    status = np.zeros(values.shape[0], dtype=np.int8)
    with np.errstate(invalid="ignore"):
        status[np.abs(values) >= SENTINEL_MAGNITUDE] = NOT_MEANINGFUL  # includes +-inf
    status[np.isnan(values)] = MISSING
    if null_mask is not None:
        status[null_mask] = MISSING
    values[status != OK] = np.nan
    return CleanColumn(values, status)


def _clean_strings(array: Any) -> CleanColumn:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(array.cast(pa.string()))
    text = pc.replace_substring(text, "\u2212", "-")  # the typographic minus sign
    lower = pc.utf8_lower(text)
    is_missing = pc.or_(
        pc.fill_null(pc.is_in(lower, pa.array(MISSING_TOKENS)), False), pc.is_null(lower)
    )
    is_nm = pc.fill_null(pc.is_in(lower, pa.array(NOT_MEANINGFUL_TOKENS)), False)

    number = pc.replace_substring_regex(text, _PARENTHESISED, r"-\1")
    number = pc.utf8_trim_whitespace(pc.replace_substring_regex(number, r"%$", ""))
    number = pc.replace_substring_regex(number, r"^--", "-")  # "(-3)" is still negative
    thousands = pc.fill_null(pc.match_substring_regex(number, _THOUSANDS), False)
    number = pc.if_else(thousands, pc.replace_substring(number, ",", ""), number)
    parses = pc.fill_null(pc.match_substring_regex(number, _NUMBER), False)
    parsed = pc.cast(pc.if_else(parses, number, pa.scalar(None, pa.string())), pa.float64())

    cleaned = _clean_numeric(parsed.to_numpy(zero_copy_only=False))
    status = cleaned.status
    is_missing_np = is_missing.to_numpy(zero_copy_only=False)
    is_nm_np = is_nm.to_numpy(zero_copy_only=False)
    invalid = ~parses.to_numpy(zero_copy_only=False) & ~is_missing_np & ~is_nm_np
    status[is_nm_np] = NOT_MEANINGFUL
    status[is_missing_np] = MISSING
    status[invalid] = INVALID
    return CleanColumn(cleaned.values, status)


def apply_floor(column: CleanColumn, floor: float | None) -> CleanColumn:
    """Mark values below a ratio's meaningful floor as not meaningful (e.g. negative EBITDA)."""
    if floor is None:
        return column
    with np.errstate(invalid="ignore"):
        below = column.values < floor
    if not below.any():
        return column
    values = np.where(below, np.nan, column.values)
    status = np.where(below, np.int8(NOT_MEANINGFUL), column.status).astype(np.int8)
    return CleanColumn(values, status)


def clean_column(column: Any) -> CleanColumn:
    """Clean one column of raw cells: a pyarrow Array/ChunkedArray, numpy array or sequence.

    Numbers pass through (NaN is missing; +-inf and ``|x| >= 1e7`` are not meaningful). Text is
    parsed: "12.5%" is 12.5, "1,234.5" is 1234.5, "(3.2)" is -3.2, padding is ignored, the
    missing and not-meaningful tokens are recognised case-insensitively, and anything else is
    INVALID. No Python loop runs over the rows.
    """
    import pyarrow as pa

    if isinstance(column, np.ndarray) and column.dtype.kind in "fiub":
        return _clean_numeric(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        if isinstance(column, np.ndarray) and column.dtype.kind in "US":
            column = pa.array(column.astype(str))
        else:
            column = _sequence_to_arrow(column)
    if pa.types.is_null(column.type):
        return CleanColumn(
            np.full(len(column), np.nan), np.full(len(column), MISSING, dtype=np.int8)
        )
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        nulls = column.is_null().to_numpy(zero_copy_only=False) if column.null_count else None
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return _clean_numeric(values, nulls)
    if pa.types.is_decimal(column.type) or pa.types.is_boolean(column.type):
        return clean_column(column.cast(pa.float64()))
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return _clean_strings(column)


def _sequence_to_arrow(values: Sequence[Any] | np.ndarray) -> Any:
    import pyarrow as pa

    items = list(values)
    numeric = (isinstance(item, int | float) and not isinstance(item, bool) for item in items)
    if all(item is None or is_number for item, is_number in zip(items, numeric, strict=True)):
        return pa.array(items, type=pa.float64(), from_pandas=True)
    return pa.array([None if item is None else str(item) for item in items], type=pa.string())
