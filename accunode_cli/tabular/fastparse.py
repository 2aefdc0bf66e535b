"""Turn text ratio cells into float64 before scoring, when that changes nothing but the speed.

A CSV file arrives as text, and the scoring core's cleaner parses text with several regular
expressions per column. Most cells of a real export are plain decimals ("12.34", "-5", ""):
those are cast to float64 here in one pass, and only the other cells ("NM", "12.5%", "(3.2)")
go through the core's :func:`~accunode_cli.scoring.clean_column`. The result says the same
thing in numbers the core reads identically: NaN is missing, +inf is not meaningful. When a
cell is invalid the column is handed to the core as text, so the row's error message is the
core's own. A test checks that scores are identical both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PLAIN_DECIMAL", "text_to_numbers"]

# A strict subset of what the core's cleaner reads as a plain number (no spaces, signs other
# than "-", exponents, percent signs, brackets or thousands separators).
PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"


def text_to_numbers(column: Any) -> np.ndarray | None:
    """Return the cells as float64 (NaN missing, +inf not meaningful), or None if any is invalid."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from accunode_cli.scoring import INVALID, NOT_MEANINGFUL, OK, clean_column

    plain = pc.fill_null(pc.match_substring_regex(column, PLAIN_DECIMAL), False)
    # Not plain cells become null, so NaN (missing) until the core has cleaned them below.
    values = pc.cast(pc.if_else(plain, column, pa.scalar(None, pa.string())), pa.float64())
    values = values.to_numpy(zero_copy_only=False)
    empty = pc.fill_null(pc.equal(column, ""), True)  # blank and null are missing as they are
    others = np.flatnonzero(~pc.or_(plain, empty).to_numpy(zero_copy_only=False))
    if others.size == 0:
        return values
    cleaned = clean_column(column.take(pa.array(others)))
    if (cleaned.status == INVALID).any():
        return None
    values[others] = np.where(
        cleaned.status == OK,
        cleaned.values,
        np.where(cleaned.status == NOT_MEANINGFUL, np.inf, np.nan),
    )
    return values
