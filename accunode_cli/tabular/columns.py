"""Match input columns to a model's ratios and infer the model kind from them.

A header matches a ratio when their keys agree. The key folds case, punctuation and the word
"to" (``fold_column_name``), drops a unit suffix ("(x)", "(%)", "%") and spells out the
abbreviations of export tools (LT, Exp., Cap, Int., Tot), so Capital IQ's
"LT Debt/Total Cap (%)" is long_term_debt_to_total_capital. Anything else is mapped by the user
(``--map "Header=ratio_name"`` or a TOML map file), and a mapped header matches only its ratio.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accunode_cli.errors import ColumnError, UsageError

__all__ = [
    "OUTPUT_COLUMNS",
    "ColumnMatch",
    "MAP_SYNTAX",
    "all_ratio_names",
    "check_names",
    "shown",
    "column_key",
    "header_score",
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


def shown(name: str) -> str:
    """Quote a column name for a one-line message, cut at 40 characters."""
    flat = " ".join(name.split())
    return repr(flat if len(flat) <= 40 else flat[:39] + "…")


_UNIT_SUFFIX = re.compile(r"\s*(\(\s*(x|%|times|pct)\s*\)|%|\bx)\s*$", re.IGNORECASE)
_ABBREVIATIONS = {
    "lt": "long_term",
    "ltd": "long_term_debt",
    "tot": "total",
    "cap": "capital",
    "capitalization": "capital",
    "int": "interest",
    "exp": "expense",
    "expn": "expense",
    "mgn": "margin",
    "ni": "net_income",
    "roa": "return_on_assets",
    "asset": "assets",
    "roc": "return_on_capital",
}
MAP_SYNTAX = '--map "HEADER=ratio_name" (repeatable) or --map-file cols.toml'


def column_key(name: str, column_map: Mapping[str, str] | None = None) -> str:
    """Return the matching key of a header (a mapped header's key is its ratio's)."""
    from accunode_cli.scoring import fold_column_name

    if column_map and name.strip() in column_map:
        return column_key(column_map[name.strip()])
    words = fold_column_name(_UNIT_SUFFIX.sub("", name)).split("_")
    return "_".join(_ABBREVIATIONS.get(word, word) for word in words if word)


def header_score(cells: Sequence[Any], column_map: Mapping[str, str] | None = None) -> int:
    """Return how many cells of a row name a ratio of either model (to find a header row)."""
    from accunode_cli.scoring import KINDS, ratio_names

    keys = {column_key(ratio) for kind in KINDS for ratio in ratio_names(kind)}
    return sum(
        1 for cell in cells if isinstance(cell, str) and column_key(cell, column_map) in keys
    )


def _folded(names: Sequence[str], column_map: Mapping[str, str] | None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in names:
        found.setdefault(column_key(name, column_map), []).append(name)
    return found


def _closest(missing: str, names: Sequence[str]) -> list[str]:
    by_key = {column_key(name): name for name in names}
    keys = difflib.get_close_matches(column_key(missing), list(by_key), n=3, cutoff=0.5)
    return [by_key[key] for key in keys]


def _closest_ratios(names: Sequence[str]) -> list[tuple[str, str]]:
    """Return (header, ratio) for the headers that come close to a ratio name, closest first."""
    by_key = {column_key(ratio): ratio for ratio in all_ratio_names()}
    found = []
    for name in names:
        key = column_key(name)
        close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
        if close:
            ratio = difflib.SequenceMatcher(None, key, close[0]).ratio()
            found.append((ratio, " ".join(name.split()), by_key[close[0]]))
    found.sort(key=lambda item: -item[0])
    return [(header, ratio) for _, header, ratio in found]


def all_ratio_names() -> list[str]:
    from accunode_cli.scoring import KINDS, ratio_names

    return sorted({name for kind in KINDS for name in ratio_names(kind)})


def match_columns(
    names: Sequence[str],
    kind: str,
    *,
    source: str,
    column_map: Mapping[str, str] | None = None,
) -> ColumnMatch:
    """Find every ratio of ``kind`` among ``names``; list what is missing and what is close."""
    from accunode_cli.scoring import ratio_names

    folded = _folded(names, column_map)
    columns: dict[str, str] = {}
    missing: list[str] = []
    for ratio in ratio_names(kind):
        candidates = folded.get(column_key(ratio), [])
        mapped = [c for c in candidates if column_map and c.strip() in column_map]
        if len(mapped) == 1:
            candidates = mapped  # the user's word beats a header that merely folds alike
        if len(candidates) > 1:
            raise ColumnError(
                f"{source}: columns {', '.join(repr(c) for c in candidates)} all match the "
                f"ratio {ratio}; keep one, or say which with --map",
                details={"ratio": ratio, "columns": candidates},
            )
        if candidates:
            columns[ratio] = candidates[0]
        else:
            missing.append(ratio)
    if missing:
        unused = [name for name in names if name not in columns.values()]
        close = {ratio: _closest(ratio, unused) for ratio in missing}
        hints = "; ".join(
            f"{ratio} (closest: {', '.join(shown(c) for c in found)})" if found else ratio
            for ratio, found in close.items()
        )
        example = next(((r, f[0]) for r, f in close.items() if f), (missing[0], "HEADER"))
        raise ColumnError(
            f"{source} lacks the {kind} ratio column(s): {hints}; name a column with "
            f'--map "{" ".join(example[1].split())}={example[0]}" (repeatable) '
            "or --map-file cols.toml",
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


def infer_kind(
    names: Sequence[str], *, source: str, column_map: Mapping[str, str] | None = None
) -> str:
    """Return the one kind whose ratios are all present; refuse when none or both are."""
    from accunode_cli.scoring import KINDS, ratio_names

    keys = set(_folded(names, column_map))
    present = {kind: [r for r in ratio_names(kind) if column_key(r) in keys] for kind in KINDS}
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
        guesses = _closest_ratios(names)
        hint = (
            "; closest: " + ", ".join(f'--map "{h}={r}"' for h, r in guesses[:3]) if guesses else ""
        )
        raise ColumnError(
            f"{source} has none of the ratio columns of either model; its columns are "
            f"{', '.join(shown(n) for n in list(names)[:12])}"
            + (f" and {len(names) - 12} more" if len(names) > 12 else "")
            + f"{hint}; name them with {MAP_SYNTAX}",
            details={"columns": list(names), "closest": dict(guesses)},
        )
    match_columns(names, nearest, source=source, column_map=column_map)  # raises: what lacks
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
