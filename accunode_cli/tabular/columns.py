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
    "check_names",
    "column_key",
    "header_score",
    "match_columns",
    "infer_kind",
    "read_column_map",
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


def _all_ratio_names() -> list[str]:
    from accunode_cli.scoring import KINDS, ratio_names

    return sorted({name for kind in KINDS for name in ratio_names(kind)})


def read_column_map(items: Sequence[str], map_file: str | None = None) -> dict[str, str]:
    """Return {header: ratio name} from ``--map "Header=ratio"`` items and a TOML map file.

    The file holds ``"Header" = "ratio_name"`` lines, at the top or under ``[columns]``;
    a ``--map`` item overrides the file's entry for the same header.
    """
    pairs: list[tuple[str, str, str]] = []
    if map_file is not None:
        for header, ratio in _read_map_file(map_file).items():
            pairs.append((header, ratio, f"{map_file}: {header!r}"))
    for item in items:
        header, sep, ratio = item.rpartition("=")
        if not sep or not header.strip() or not ratio.strip():
            raise UsageError(f"--map {item!r} is not HEADER=ratio_name, e.g. {MAP_SYNTAX}")
        pairs.append((header, ratio, f"--map {item!r}"))
    known = _all_ratio_names()
    mapping: dict[str, str] = {}
    for header, ratio, where in pairs:
        name = ratio.strip()
        if name not in known:
            close = difflib.get_close_matches(column_key(name), known, n=1, cutoff=0.4)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(
                f"{where}: {name!r} is not a ratio name{hint} The ratios are {', '.join(known)}",
                details={"ratio": name, "ratios": known},
            )
        mapping[header.strip()] = name
    return mapping


def _read_map_file(path: str) -> dict[str, str]:
    import tomllib

    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"cannot read the map file {path}: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the map file {path} is not valid TOML: {error}") from error
    table = document.get("columns", document)
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise UsageError(
            f'the map file {path} must hold "Header" = "ratio_name" lines '
            "(at the top or under [columns])"
        )
    return dict(table)


def check_map(names: Sequence[str], column_map: Mapping[str, str], *, source: str) -> None:
    """Refuse a mapped header that the input does not have."""
    present = {name.strip() for name in names}
    for header in column_map:
        if header not in present:
            close = difflib.get_close_matches(header, list(present), n=1, cutoff=0.5)
            hint = f" (closest: {_shown(close[0])})" if close else ""
            raise ColumnError(
                f"{source} has no column {header!r} to map{hint}",
                details={"column": header, "columns": list(names)},
            )


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
            f"{ratio} (closest: {', '.join(_shown(c) for c in found)})" if found else ratio
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
        raise ColumnError(
            f"{source} has none of the ratio columns of either model; its columns are "
            f"{', '.join(_shown(n) for n in list(names)[:12])}"
            + (f" and {len(names) - 12} more" if len(names) > 12 else "")
            + f"; name them with {MAP_SYNTAX}",
            details={"columns": list(names)},
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
