"""The errors file of a bulk run: one line per rejected row, with where and why."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from accunode_cli.tabular.columns import ColumnMatch
from accunode_cli.tabular.locations import is_remote
from accunode_cli.tabular.sinks import PendingFile

__all__ = ["ErrorsWriter", "default_errors_path"]


def default_errors_path(output: str) -> str | None:
    """Return OUTPUT with ``.errors.csv`` in place of its extension (None for stdout)."""
    if output == "-":
        return None
    if is_remote(output):  # a Path would fold the "//" of the URL
        folder, _, name = output.rpartition("/")
        return f"{folder}/{default_errors_path(name)}"
    path = Path(output)
    name = path.name
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return str(path.with_name(name + ".errors.csv"))


class ErrorsWriter:
    """The errors file: one line per rejected row with its number, column, value and reason."""

    def __init__(self, pending: PendingFile | None) -> None:
        self.pending = pending
        self._handle = open(pending.temp, "w", newline="", encoding="utf-8") if pending else None  # noqa: SIM115
        self._writer = csv.writer(self._handle) if self._handle else None
        if self._writer:
            self._writer.writerow(["row", "column", "value", "reason"])

    def add(self, first_row: int, scored: Any, raw: dict[str, Any], match: ColumnMatch) -> None:
        """List the batch's unscored rows; ``first_row`` is the batch's 1-based row number."""
        from accunode_cli.scoring import INVALID

        if self._writer is None:
            return
        bad = np.flatnonzero(scored.risk_codes < 0)
        for index in bad:
            invalid = np.flatnonzero(scored.status[index] == INVALID)
            ratio = scored.ratio_names[int(invalid[0])] if invalid.size else None
            cell: Any = raw[ratio][int(index)] if ratio else None
            value = cell.as_py() if hasattr(cell, "as_py") else cell
            column = match.columns[ratio] if ratio else ""
            reason = scored.row_error[index] or "cannot be scored"
            self._writer.writerow([first_row + int(index), column, value, reason])

    def close(self) -> None:
        """Close the file (the pending file is committed or discarded by its owner)."""
        if self._handle:
            self._handle.close()
