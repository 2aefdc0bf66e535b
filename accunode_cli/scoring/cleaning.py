"""Turn raw input cells into model-ready floats in one vectorised step.

Every cell ends in one of four states, kept per row and ratio so the output can say why a
value was not used:

* ``OK``: a finite number below the sentinel magnitude;
* ``MISSING``: null, blank, NaN or a missing token (NM is *not* one: see below);
* ``NOT_MEANINGFUL``: NM / N/M, +-inf, or a sentinel magnitude (``|x| >= 1e7``) that exporters
  write for a ratio whose denominator is zero or negative;
* ``INVALID``: text that is neither a number nor a known token. The row cannot be scored;
* ``OUT_OF_RANGE``: a finite number outside the range the ratio can plausibly take (long-term
  debt / capital of 1,234.5 %). It is scored as given and flagged, never silently "ok".

Excel's error values mean what Excel means by them: ``#N/A`` (no value available), ``#REF!``,
``#NAME?`` and ``#NULL!`` (a broken formula) are missing; ``#DIV/0!``, ``#NUM!`` and ``#VALUE!``
(the ratio cannot be computed from its inputs) are not meaningful. A multiple may carry its
unit: "2.1x", "2.1 x" and "2.1×" are 2.1.
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
    "OUT_OF_RANGE",
    "STATUS_NAMES",
    "SENTINEL_MAGNITUDE",
    "MISSING_TOKENS",
    "NOT_MEANINGFUL_TOKENS",
    "CleanColumn",
    "clean_column",
    "apply_floor",
    "apply_range",
    "strings_array",
]

OK, MISSING, NOT_MEANINGFUL, INVALID, OUT_OF_RANGE = 0, 1, 2, 3, 4
STATUS_NAMES = {
    OK: "ok",
    MISSING: "missing",
    NOT_MEANINGFUL: "not_meaningful",
    INVALID: "invalid",
    OUT_OF_RANGE: "out_of_range",
}
SENTINEL_MAGNITUDE = 1e7

MISSING_TOKENS = (
    "", "nan", "n/a", "na", "n.a.", "n.a", "#n/a", "-", "--", "---", "\u2014", "\u2013",
    "none", "null", "nil", "missing", "?", "#ref!", "#name?", "#null!", "#getting_data",
)  # fmt: skip
NOT_MEANINGFUL_TOKENS = (
    "nm", "n/m", "n.m.", "n.m", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
    "#div/0!", "#num!", "#value!",
)  # fmt: skip

_PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"  # a direct cast reads these exactly like _NUMBER
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_PARENTHESISED = r"^\((.*)\)$"
_TIMES = "\\s*[xX\u00d7]$"  # "2.1x", "2.1 x", "2.1×": a multiple with its unit


@dataclass(frozen=True)
class CleanColumn:
    """One cleaned column: float values (NaN unless OK) and a status code per row."""

    values: np.ndarray  # float64
    status: np.ndarray  # int8, one of OK, MISSING, NOT_MEANINGFUL, INVALID, OUT_OF_RANGE
    raw: Any = None  # the cells it was cleaned from, for messages about invalid ones

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> Any:
        """Return the raw cell of a row (the number when no raw cells were kept)."""
        return self.raw[index] if self.raw is not None else float(self.values[index])

    def scaled(self, factor: float) -> CleanColumn:
        """Return the column with its values multiplied (a fraction read as percentage points)."""
        return CleanColumn(self.values * factor, self.status, self.raw)


def _clean_numeric(raw: np.ndarray) -> CleanColumn:
    values = np.asarray(raw, dtype=np.float64).copy()
    status = np.zeros(values.shape[0], dtype=np.int8)
    with np.errstate(invalid="ignore"):
        status[np.abs(values) >= SENTINEL_MAGNITUDE] = NOT_MEANINGFUL  # includes +-inf
    status[np.isnan(values)] = MISSING
    values[status != OK] = np.nan
    return CleanColumn(values, status)


def _clean_strings(array: Any) -> CleanColumn:
    """Clean text cells; plain decimals (most cells of a real export) take a direct cast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = strings_array([""])[0]  # a scalar made without pa.scalar, which would import pandas
    text = pc.fill_null(array.cast(pa.string()), empty)
    plain_mask = pc.match_substring_regex(text, _PLAIN_DECIMAL)
    plain = _booleans(plain_mask)
    if plain.all():
        return _clean_numeric(_floats(pc.cast(text, pa.float64())))
    if not plain.any():
        return _clean_text(text)
    values = np.empty(len(text), dtype=np.float64)
    status = np.empty(len(text), dtype=np.int8)
    for rows, part in (
        (plain, _clean_numeric(_floats(pc.cast(pc.filter(text, plain_mask), pa.float64())))),
        (~plain, _clean_text(pc.filter(text, pc.invert(plain_mask)))),
    ):
        values[rows], status[rows] = part.values, part.status
    return CleanColumn(values, status)


def _clean_text(text: Any) -> CleanColumn:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(text)
    text = pc.replace_substring(text, "\u2212", "-")  # the typographic minus sign
    lower = pc.utf8_lower(text)
    is_missing = pc.is_in(lower, value_set=strings_array(MISSING_TOKENS))
    is_nm = pc.is_in(lower, value_set=strings_array(NOT_MEANINGFUL_TOKENS))

    number = pc.replace_substring_regex(text, _PARENTHESISED, r"-\1")
    number = pc.utf8_trim_whitespace(pc.replace_substring_regex(number, r"%$", ""))
    number = pc.replace_substring_regex(number, _TIMES, "")
    number = pc.replace_substring_regex(number, r"^--", "-")  # "(-3)" is still negative
    thousands = pc.match_substring_regex(number, _THOUSANDS)
    number = pc.if_else(thousands, pc.replace_substring(number, ",", ""), number)
    parses = pc.match_substring_regex(number, _NUMBER)
    parsed = pc.cast(pc.if_else(parses, number, pa.nulls(len(number), pa.string())), pa.float64())

    cleaned = _clean_numeric(_floats(parsed))
    status = cleaned.status
    is_missing_np, is_nm_np = _booleans(is_missing), _booleans(is_nm)
    invalid = ~_booleans(parses) & ~is_missing_np & ~is_nm_np
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
    return CleanColumn(values, status, column.raw)


def apply_range(column: CleanColumn, plausible: tuple[float, float] | None) -> CleanColumn:
    """Flag finite values outside a ratio's plausible range as OUT_OF_RANGE (still scored)."""
    if plausible is None:
        return column
    low, high = plausible
    with np.errstate(invalid="ignore"):
        outside = (column.status == OK) & ((column.values < low) | (column.values > high))
    if not outside.any():
        return column
    status = np.where(outside, np.int8(OUT_OF_RANGE), column.status).astype(np.int8)
    return CleanColumn(column.values, status, column.raw)


def clean_column(column: Any) -> CleanColumn:
    """Clean one column of raw cells: a pyarrow Array/ChunkedArray, numpy array or sequence.

    Numbers pass through (NaN is missing; +-inf and ``|x| >= 1e7`` are not meaningful). Text is
    parsed: "12.5%" is 12.5, "1,234.5" is 1234.5, "(3.2)" is -3.2, padding is ignored, the
    missing and not-meaningful tokens are recognised case-insensitively, and anything else is
    INVALID. No Python loop runs over the rows.
    """
    import pyarrow as pa

    if isinstance(column, CleanColumn):
        return column  # cleaned already (and perhaps rescaled) by the caller
    if isinstance(column, np.ndarray) and column.dtype.kind in "fiub":
        return _clean_numeric(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        column = _sequence_to_arrow(column)
        if isinstance(column, np.ndarray):
            return _clean_numeric(column)
    if pa.types.is_null(column.type):
        return CleanColumn(
            np.full(len(column), np.nan), np.full(len(column), MISSING, dtype=np.int8)
        )
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return _clean_numeric(_floats(column.cast(pa.float64())))  # a null is NaN: missing
    if pa.types.is_decimal(column.type) or pa.types.is_boolean(column.type):
        return clean_column(column.cast(pa.float64()))
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return _clean_strings(column)


def _bits(buffer: Any, offset: int, length: int) -> np.ndarray:
    unpacked = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return unpacked[offset : offset + length].astype(bool)


def _booleans(array: Any) -> np.ndarray:
    """Unpack a null-free pyarrow boolean array (to_numpy would import pandas)."""
    return _bits(array.buffers()[1], array.offset, len(array))


def _floats(array: Any) -> np.ndarray:
    """Return a float64 pyarrow array as numpy, nulls as NaN, without importing pandas."""
    values = np.frombuffer(array.buffers()[1], dtype=np.float64)
    values = values[array.offset : array.offset + len(array)].copy()
    if array.null_count:
        values[~_bits(array.buffers()[0], array.offset, len(array))] = np.nan
    return values


def strings_array(items: Sequence[str]) -> Any:
    """Build a pyarrow string array from Python strings.

    ``pyarrow.array`` would do, but it imports pandas to inspect its argument, and the
    scoring path must stay free of pandas (a cold ``accunode predict`` pays for every import).
    """
    import pyarrow as pa

    encoded = [item.encode() for item in items]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(item) for item in encoded])
    return pa.StringArray.from_buffers(
        len(encoded), pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(encoded))
    )


def _sequence_to_arrow(values: Sequence[Any] | np.ndarray) -> Any:
    """Return a float ndarray for all-number input, else a pyarrow string array.

    None becomes the empty string, which is a missing token, so nothing needs a null bitmap.
    """
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if all(
        item is None or (isinstance(item, int | float) and not isinstance(item, bool))
        for item in items
    ):
        return np.array([np.nan if item is None else item for item in items], dtype=np.float64)
    return strings_array(["" if item is None else str(item) for item in items])
