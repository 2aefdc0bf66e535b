"""Match input columns to a model's ratios and infer the model kind from them."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accunode_cli.errors import ColumnError, UsageError

__all__ = [
    "OUTPUT_COLUMNS",
    "ColumnMatch",
    "check_names",
    "match_columns",
    "infer_kind",
    "to_point_decimals",
    "uses_decimal_comma",
]

OUTPUT_COLUMNS = (
    "probability",
    "risk_level",
    "implied_rating",
    "model_version",
    "flags",
    "error",
)


@dataclass(frozen=True)
class ColumnMatch:
    """The model kind and, for each of its ratios in model order, the input column name."""

    kind: str
    columns: dict[str, str]  # ratio name -> input column name


def check_names(names: Sequence[str], *, name: str) -> None:
    """Refuse a header that repeats a column name."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for column in names:
        if column in seen and column not in duplicates:
            duplicates.append(column)
        seen.add(column)
    if duplicates:
        raise ColumnError(
            f"{name} has duplicated columns: {', '.join(repr(d) for d in duplicates)}",
            details={"duplicated": duplicates},
        )


def _shown(name: str) -> str:
    """Quote a column name for a one-line message, cut at 40 characters."""
    flat = " ".join(name.split())
    return repr(flat if len(flat) <= 40 else flat[:39] + "…")


def _folded(names: Sequence[str]) -> dict[str, list[str]]:
    from accunode_cli.scoring import fold_column_name

    found: dict[str, list[str]] = {}
    for name in names:
        found.setdefault(fold_column_name(name), []).append(name)
    return found


def _closest(missing: str, names: Sequence[str]) -> list[str]:
    from accunode_cli.scoring import fold_column_name

    by_key = {fold_column_name(name): name for name in names}
    keys = difflib.get_close_matches(fold_column_name(missing), list(by_key), n=3, cutoff=0.5)
    return [by_key[key] for key in keys]


def match_columns(names: Sequence[str], kind: str, *, source: str) -> ColumnMatch:
    """Find every ratio of ``kind`` among ``names``; list what is missing and what is close."""
    from accunode_cli.scoring import fold_column_name, ratio_names

    folded = _folded(names)
    columns: dict[str, str] = {}
    missing: list[str] = []
    for ratio in ratio_names(kind):
        candidates = folded.get(fold_column_name(ratio), [])
        if len(candidates) > 1:
            raise ColumnError(
                f"{source}: columns {', '.join(repr(c) for c in candidates)} all match the "
                f"ratio {ratio}; keep one",
                details={"ratio": ratio, "columns": candidates},
            )
        if candidates:
            columns[ratio] = candidates[0]
        else:
            missing.append(ratio)
    if missing:
        close = {ratio: _closest(ratio, names) for ratio in missing}
        hints = "; ".join(
            f"{ratio} (closest: {', '.join(_shown(c) for c in found)})" if found else ratio
            for ratio, found in close.items()
        )
        raise ColumnError(
            f"{source} lacks the {kind} ratio column(s): {hints}",
            details={"kind": kind, "missing": missing, "closest": close, "columns": list(names)},
        )
    clashes = [name for name in names if name in OUTPUT_COLUMNS or name.startswith("contribution_")]
    if clashes:
        raise ColumnError(
            f"{source} already has output column(s) {', '.join(repr(c) for c in clashes)}; "
            "remove them (is this a scored file?)",
            details={"clashing": clashes},
        )
    return ColumnMatch(kind, columns)


def infer_kind(names: Sequence[str], *, source: str) -> str:
    """Return the one kind whose ratios are all present; refuse when none or both are."""
    from accunode_cli.scoring import KINDS, fold_column_name, ratio_names

    keys = set(_folded(names))
    present = {
        kind: [r for r in ratio_names(kind) if fold_column_name(r) in keys] for kind in KINDS
    }
    complete = [kind for kind in KINDS if len(present[kind]) == len(ratio_names(kind))]
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        raise UsageError(
            f"{source} has the columns of both annual and quarterly models; pass --kind",
            details={"kinds": complete},
        )
    nearest = max(KINDS, key=lambda kind: len(present[kind]) / len(ratio_names(kind)))
    if not present[nearest]:
        raise ColumnError(
            f"{source} has none of the ratio columns of either model; its columns are "
            f"{', '.join(_shown(n) for n in list(names)[:12])}"
            + (f" and {len(names) - 12} more" if len(names) > 12 else ""),
            details={"columns": list(names)},
        )
    match_columns(names, nearest, source=source)  # raises with the missing names
    raise AssertionError("unreachable")


_EUROPEAN = r"^\s*[(+-]?\s*\d{1,3}(\.\d{3})*,\d+"
_US_THOUSANDS = r"\d,\d{3}\.\d"


def uses_decimal_comma(columns: Sequence[Any]) -> bool:
    """Tell whether text ratio cells use a decimal comma ("12,5") rather than a point."""
    import pyarrow as pa
    import pyarrow.compute as pc

    european = us = 0
    for column in columns:
        if not pa.types.is_string(column.type):
            continue
        european += int(pc.sum(pc.match_substring_regex(column, _EUROPEAN)).as_py() or 0)
        us += int(pc.sum(pc.match_substring_regex(column, _US_THOUSANDS)).as_py() or 0)
    return european > 0 and us == 0


def to_point_decimals(column: Any) -> Any:
    """Rewrite "1.234,5" as "1234.5" in a text column (European number format)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(column.type):
        return column
    # In this format "." only ever groups thousands, so it goes; then "," becomes the point.
    return pc.replace_substring(pc.replace_substring(column, ".", ""), ",", ".")
