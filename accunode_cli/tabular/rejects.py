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
    """The errors file: one line per bad cell of a rejected row (number, column, value, reason).

    A row without any ratio value gets one line with an empty column and value.
    """

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
        for index in np.flatnonzero(scored.risk_codes < 0):
            row = first_row + int(index)
            invalid = np.flatnonzero(scored.status[index] == INVALID)
            if not invalid.size:
                self._writer.writerow([row, "", "", scored.row_error[index] or "cannot be scored"])
            for j in invalid:
                ratio = scored.ratio_names[int(j)]
                cell: Any = raw[ratio][int(index)]
                value = cell.as_py() if hasattr(cell, "as_py") else cell
                reason = f"{ratio}: {str(value)[:60]!r} is not a number"
                self._writer.writerow([row, match.columns[ratio], value, reason])

    def close(self) -> None:
        """Close the file (the pending file is committed or discarded by its owner)."""
        if self._handle:
            self._handle.close()
