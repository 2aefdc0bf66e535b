"""Whole labelled tables for training and evaluation, and writing generated data sets.

A labelled table has a model kind's ratio columns (matched like bulk-score's: case and
punctuation folded) and a 0/1 ``default`` column; ``year``, ``firm_id``, ``company_symbol``
and ``true_pd`` are used when present (out-of-time split, split by firm, best-case figures).
"""

from __future__ import annotations

from typing import Any

from accunode_cli.errors import ColumnError
from accunode_cli.tabular.columns import check_names, match_columns
from accunode_cli.tabular.formats import output_format_for
from accunode_cli.tabular.sinks import TableSink, reserve_output
from accunode_cli.tabular.sources import open_source

__all__ = ["read_labelled_table", "write_table", "OPTIONAL_COLUMNS"]

OPTIONAL_COLUMNS = ("year", "firm_id", "company_symbol", "true_pd")


def read_labelled_table(path: str, kind: str) -> Any:
    """Read a whole table and return it with canonical column names (ratios, default, ...)."""
    import pyarrow as pa

    from accunode_cli.scoring import fold_column_name

    source = open_source(path, batch_size=1 << 16)
    check_names(source.names, name=path)
    match = match_columns(source.names, kind, source=path)
    by_key = {fold_column_name(name): name for name in source.names}
    if "default" not in by_key:
        raise ColumnError(
            f"{path} has no 'default' column; training and evaluation need the 0/1 outcome "
            "of each row (1 = defaulted within twelve months)",
            details={"missing": ["default"]},
        )
    renames = {column: ratio for ratio, column in match.columns.items()}
    renames[by_key["default"]] = "default"
    for name in OPTIONAL_COLUMNS:
        if name in by_key:
            renames[by_key[name]] = name
    text = frozenset(match.columns.values())
    table = pa.Table.from_batches(list(source.batches(text_columns=text)))
    if table.num_rows == 0:
        raise ColumnError(f"{path} has a header but no data rows")
    keep = [name for name in table.column_names if name in renames]
    return table.select(keep).rename_columns([renames[name] for name in keep])


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
