"""Whole labelled tables for training and evaluation, and writing generated data sets.

A labelled table has a model kind's ratio columns (matched like bulk-score's: case and
punctuation folded) and an outcome column: ``default``, ``defaulted`` or ``bankrupt`` (or any
column named with ``--target``) holding 1/0, Y/N, yes/no or true/false. The year of each row
comes from ``year``, ``reporting_year`` or ``fiscal_year`` (the out-of-time split); ``firm_id``,
``company_symbol`` and ``true_pd`` are used when present (split by firm, best-case figures).
Whatever their names in the file, they reach the scoring core as ``default`` (0/1 int8),
``year`` (int64) and their own names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accunode_cli.errors import ColumnError
from accunode_cli.tabular.columns import check_names, match_columns
from accunode_cli.tabular.formats import output_format_for
from accunode_cli.tabular.sinks import TableSink, reserve_output
from accunode_cli.tabular.sources import open_source

__all__ = [
    "read_labelled_table",
    "write_table",
    "OPTIONAL_COLUMNS",
    "TARGET_NAMES",
    "YEAR_NAMES",
    "outcome_values",
]

OPTIONAL_COLUMNS = ("firm_id", "company_symbol", "true_pd")
TARGET_NAMES = ("default", "defaulted", "bankrupt")  # first present wins
YEAR_NAMES = ("year", "reporting_year", "fiscal_year")  # first present wins
_YES = ("1", "1.0", "y", "yes", "true", "t")
_NO = ("0", "0.0", "n", "no", "false", "f")


def read_labelled_table(
    path: str, kind: str, *, target: str | None = None, require_target: bool = True
) -> Any:
    """Read a whole table and return it with canonical column names (ratios, default, year, ...).

    ``target`` names the outcome column (matched with case and punctuation folded); without it
    the first of TARGET_NAMES present is used. With ``require_target=False`` a table without
    an outcome column is returned without ``default`` (scoring a sample without labels).
    """
    import pyarrow as pa

    from accunode_cli.scoring import fold_column_name

    source = open_source(path, batch_size=1 << 16)
    check_names(source.names, name=path)
    match = match_columns(source.names, kind, source=path)
    by_key: dict[str, str] = {}
    for name in source.names:
        by_key.setdefault(fold_column_name(name), name)
    outcome = _outcome_column(path, by_key, target, require_target)
    renames = {column: ratio for ratio, column in match.columns.items()}
    if outcome is not None:
        renames[outcome] = "default"
    year = next((by_key[k] for k in YEAR_NAMES if k in by_key), None)
    if year is not None:
        renames.setdefault(year, "year")
    for name in OPTIONAL_COLUMNS:
        if name in by_key:
            renames.setdefault(by_key[name], name)
    text = frozenset(match.columns.values())
    table = pa.Table.from_batches(list(source.batches(text_columns=text)))
    if table.num_rows == 0:
        raise ColumnError(f"{path} has a header but no data rows")
    keep = [name for name in table.column_names if name in renames]
    table = table.select(keep).rename_columns([renames[name] for name in keep])
    if outcome is not None:
        labels = outcome_values(table.column("default"), outcome, path)
        table = table.set_column(table.column_names.index("default"), "default", pa.array(labels))
    if year is not None:
        years = _year_values(table.column("year"), year, path)
        table = table.set_column(table.column_names.index("year"), "year", pa.array(years))
    return table


def _outcome_column(
    path: str, by_key: dict[str, str], target: str | None, required: bool
) -> str | None:
    from accunode_cli.scoring import fold_column_name

    if target is not None:
        if fold_column_name(target) not in by_key:
            raise ColumnError(
                f"{path} has no column {target!r} (given with --target); its columns are: "
                f"{', '.join(by_key.values())}",
                details={"missing": [target]},
            )
        return by_key[fold_column_name(target)]
    found = next((by_key[k] for k in TARGET_NAMES if k in by_key), None)
    if found is None and required:
        raise ColumnError(
            f"{path} has no 'default' column (nor 'defaulted' or 'bankrupt'); training and "
            "evaluation need each row's outcome (1/Y/yes/true = defaulted within twelve "
            "months); name another column with --target",
            details={"missing": ["default"]},
        )
    return found


def _shown(value: Any) -> str:
    return "a blank" if value is None or str(value).strip() == "" else repr(value)[:40]


def outcome_values(column: Any, name: str, path: str) -> np.ndarray:
    """Read an outcome column as 0/1 int8: numbers 0/1, booleans, Y/N, yes/no, true/false."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_boolean(column.type):
        values = column.cast(pa.int8())
        good = pc.is_valid(values)
    elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64())
        good = pc.fill_null(pc.is_in(values, pa.array([0.0, 1.0])), False)
    else:
        text = pc.utf8_lower(pc.utf8_trim_whitespace(column.cast(pa.string())))
        yes, no = pc.is_in(text, pa.array(_YES)), pc.is_in(text, pa.array(_NO))
        good = pc.fill_null(pc.or_(yes, no), False)
        values = pc.if_else(yes, 1, 0)
    ok = np.asarray(good.to_numpy(zero_copy_only=False), dtype=bool)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        shown = _shown(column[int(bad[0])].as_py())
        raise ColumnError(
            f"{path}: the outcome column {name!r} holds {shown} "
            f"in data row {bad[0] + 1} ({bad.size} such rows); use 1/0, Y/N, yes/no or true/false",
            details={"column": name, "rows": (bad[:20] + 1).tolist()},
        )
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False)).astype(np.int8)


def _year_values(column: Any, name: str, path: str) -> np.ndarray:
    """Read a year column as int64: whole numbers, or dates (their year) such as 2019-12-31."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        years = pc.year(column)
    else:
        text = pc.utf8_trim_whitespace(column.cast(pa.string()))
        head = pc.utf8_slice_codeunits(text, 0, 4)
        looks_like_date = pc.match_substring_regex(text, r"^\d{4}[-/]\d{1,2}([-/]\d{1,2})?$")
        whole = pc.match_substring_regex(text, r"^\d{4}(\.0+)?$")
        good = pc.fill_null(pc.or_(looks_like_date, whole), False)
        years = pc.if_else(good, head, pa.scalar(None, pa.string())).cast(pa.int64())
    ok = np.asarray(pc.is_valid(years).to_numpy(zero_copy_only=False), dtype=bool)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        shown = _shown(column[int(bad[0])].as_py())
        raise ColumnError(
            f"{path}: the year column {name!r} holds {shown} "
            f"in data row {bad[0] + 1} ({bad.size} such rows); use a four-digit year such as 2019 "
            "(or a date such as 2019-12-31)",
            details={"column": name, "rows": (bad[:20] + 1).tolist()},
        )
    return np.asarray(years.to_numpy(zero_copy_only=False), dtype=np.int64)


def write_table(table: Any, path: str) -> str:
    """Write a table to PATH (.csv, .parquet, .jsonl; ``-`` is CSV on stdout); return the format."""
    fmt = output_format_for(path, None)
    pending = reserve_output(path)
    sink = TableSink(pending, fmt, table.schema, first=table.slice(0, 10_000))
    try:
        sink.write(table)
        sink.close()
        if pending is not None:
            pending.commit()
    except BaseException:
        sink.abort()
        if pending is not None:
            pending.discard()
        raise
    return fmt
