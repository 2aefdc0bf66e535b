"""Read the first (or a named) sheet of an .xlsx workbook into one Arrow table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accunode_cli.errors import UnreadableFileError, UsageError
from accunode_cli.tabular.columns import check_names

__all__ = ["read_excel"]


def _column(values: list[Any]) -> Any:
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present):
            return pa.array(values, type=pa.int64())
        return pa.array(values, type=pa.float64())
    text: list[str | None] = []
    for v in values:
        if v is None:
            text.append(None)
        elif isinstance(v, dt.datetime | dt.date | dt.time):
            text.append(v.isoformat())
        else:
            text.append(str(v))
    return pa.array(text, type=pa.string())


def _sheet(workbook: Any, sheet: str | None, *, path: str) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise UsageError(
            f"{path} has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}"
        )
    return workbook[sheet]


def read_excel(path: str, *, sheet: str | None) -> Any:
    """Return the sheet as a pyarrow Table; blank rows are not data rows."""
    import zipfile

    import pyarrow as pa
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFileError(f"{path} is not a readable Excel workbook: {error}") from error
    try:
        rows = [
            row
            for row in _sheet(workbook, sheet, path=path).iter_rows(values_only=True)
            if any(cell is not None and str(cell).strip() != "" for cell in row)
        ]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFileError(f"{path} is not a readable Excel workbook: {error}") from error
    finally:
        workbook.close()
    if not rows:
        raise UnreadableFileError(f"{path} has an empty sheet")
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise UnreadableFileError(f"{path} has no header row")
    body = rows[1:]
    columns = [
        _column([row[j] if j < len(row) else None for row in body]) for j in range(len(header))
    ]
    check_names(header, name=path)
    return pa.Table.from_arrays(columns, names=header)
