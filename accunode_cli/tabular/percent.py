"""Percentages given as fractions (0.35 for 35 %): find them, or scale them when told.

The models take percentage ratios in points (35.0 for 35 %). A column divided by 100 scores
as a much safer company with no error, so the first batch of every run is checked: a percent
ratio column whose values nearly all lie within +-1.5 while the model's reference value (the
training median) is far above 1 looks like fractions, and the run says so in one warning line
and in its summary. ``--percent-as-fraction`` multiplies the percent ratio columns by 100
(Excel cells formatted as percentages are read as points already and stay as they are);
``--percent-as-points`` states that the numbers are points and silences the check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PercentCheck", "fraction_columns", "plan", "scaled_to_points", "percent_ratios"]

FRACTION_LIMIT = 1.5  # a fraction of a percentage ratio rarely lies outside +-150 %
FRACTION_SHARE = 0.95  # nearly all values of the column within the limit...
MIN_REFERENCE = 5.0  # ...while the model's median company has at least 5 (points)
MIN_VALUES = 10  # fewer numbers than this say nothing
CLI_ADVICE = (
    "pass --percent-as-fraction to multiply them by 100, or --percent-as-points if they are right"
)


@dataclass(frozen=True)
class PercentCheck:
    """A percent ratio column whose first batch looks like fractions."""

    ratio: str
    column: str
    share: float  # of its numbers within +-FRACTION_LIMIT
    median: float
    reference: float  # the model's median company


def percent_ratios(model: Any, skip: frozenset[str], columns: Mapping[str, str]) -> list[str]:
    """Return the model's percentage ratios, less those read from percent-formatted cells."""
    return [
        spec.name
        for spec in model.ratios
        if spec.unit == "percent" and columns.get(spec.name) not in skip
    ]


def fraction_columns(
    model: Any, raw: Mapping[str, Any], ratios: list[str], columns: Mapping[str, str]
) -> list[PercentCheck]:
    """Return the percent ratio columns of a (first) batch whose values look like fractions."""
    from accunode_cli.scoring import OK, clean_column

    found = []
    for spec, function in zip(model.ratios, model.functions, strict=True):
        if spec.name not in ratios or spec.name not in raw:
            continue
        cleaned = clean_column(raw[spec.name])
        values = cleaned.values[cleaned.status == OK]
        if values.size < MIN_VALUES or abs(function.reference) < MIN_REFERENCE:
            continue
        share = float(np.mean(np.abs(values) <= FRACTION_LIMIT))
        if share >= FRACTION_SHARE:
            found.append(
                PercentCheck(
                    spec.name,
                    columns[spec.name],
                    share,
                    float(np.median(values)),
                    function.reference,
                )
            )
    return found


def plan(
    mode: str | None,
    model: Any,
    ratios: list[str],
    first_batch: Callable[[], Mapping[str, Any]],
    *,
    columns: Mapping[str, str],
    source: str,
    rows: int,
    advice: str = CLI_ADVICE,
) -> tuple[tuple[str, ...], str | None]:
    """Return (ratios to multiply by 100, a warning), decided once on the first batch.

    ``mode`` is "fraction" or "points" when the user said so, None to check the numbers.
    """
    if mode == "fraction":
        return tuple(ratios), None
    if mode == "points":
        return (), None
    checks = fraction_columns(model, first_batch(), ratios, columns)
    return (), warning_text(source, checks, rows, advice=advice) if checks else None


def warning_text(
    source: str, checks: list[PercentCheck], rows: int, *, advice: str = CLI_ADVICE
) -> str:
    """Say in one line which columns look like fractions and what to pass (``advice``)."""
    first = checks[0]
    names = ", ".join(check.column for check in checks)
    return (
        f"{source}: percentage column(s) {names} look like fractions "
        f"({first.share:.0%} of the numbers in the first {rows:,} rows lie between "
        f"-{FRACTION_LIMIT} and {FRACTION_LIMIT}; median {first.median:.3g} where the model's "
        f"median company has {first.reference:.3g}); {advice}"
    )


def scaled_to_points(raw: Mapping[str, Any], ratios: list[str]) -> dict[str, Any]:
    """Return the columns with each listed percentage ratio cleaned and multiplied by 100.

    A cell written with a percent sign ("35%", or an Excel cell formatted as a percentage
    in a column whose other cells are not) is in points already and keeps its value.
    """
    from accunode_cli.scoring import clean_column
    from accunode_cli.scoring.cleaning import CleanColumn

    out = dict(raw)
    for ratio in ratios:
        if ratio in out:
            cleaned = clean_column(out[ratio])
            # Rounded to 10 decimals: 0.3975 * 100 is 39.75000000000001 in binary, and the
            # points it stands for are 39.75, bit for bit the number a file of points gives.
            points = np.round(cleaned.values * 100.0, 10)
            signed = _percent_signs(out[ratio])
            if signed is not None:
                points = np.where(signed, cleaned.values, points)
            out[ratio] = CleanColumn(points, cleaned.status, out[ratio])
    return out


def _percent_signs(column: Any) -> np.ndarray | None:
    """Which cells of a text column carry a % sign (None: not a text column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(column, pa.Array | pa.ChunkedArray) or not (
        pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    ):
        return None
    signed = pc.fill_null(pc.match_substring(column, "%"), False)
    return np.asarray(signed.to_numpy(zero_copy_only=False), dtype=bool)
