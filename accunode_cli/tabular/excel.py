"""Read one sheet of an Excel workbook (.xlsx with openpyxl, .xls with xlrd) into an Arrow table.

Cells are read as Excel displays them: a number formatted as a percentage (``0.0%``) is
multiplied by 100, so 0.788 shown as 78.8 % is 78.8, the unit the models take. Both readers
are used because they expose each cell's number format (python-calamine, though faster, does
not, and without the format a percentage cannot be told from a fraction). Title rows above the
header are skipped: the header is the first row that names ratio columns, or ``header_row``.
Every error names the workbook and the sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accunode_cli.errors import AccuNodeError, UnreadableFileError, UsageError
from accunode_cli.tabular.columns import check_names, header_score
from accunode_cli.tabular.sources import TableSource

__all__ = ["ExcelTable", "open_excel", "read_excel", "is_percent_format"]

_HEADER_SEARCH_ROWS = 30  # title blocks are a few rows; a header further down is passed by hand
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


@dataclass(frozen=True)
class ExcelTable:
    """A sheet read as a table: its name, the data and the columns read as percentages."""

    sheet: str
    table: Any  # pyarrow.Table
    percent_columns: frozenset[str]  # columns whose every number was percent-formatted
    header_row: int  # the header's row number in the sheet (1-based, as Excel shows it)


def is_percent_format(number_format: str | None) -> bool:
    """Tell whether an Excel number format shows the value times 100 with a % sign."""
    if not number_format or "%" not in number_format:
        return False
    return "%" in _FORMAT_LITERALS.sub("", number_format)  # a quoted or escaped % is text


def _percent_points(value: float) -> float:
    # 0.788 * 100 is 78.80000000000001 in binary; Excel shows (and means) 78.8.
    return float(f"{value * 100:.15g}")


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


Cell = tuple[Any, bool]  # (value, formatted as a percentage)
Rows = Iterator[tuple[int, list[Cell]]]  # (sheet row number, cells)


def _blank(cells: Sequence[Cell]) -> bool:
    return all(value is None or str(value).strip() == "" for value, _ in cells)


def _xlsx_sheets(path: str) -> tuple[list[str], Callable[[str], Rows], Callable[[], None]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)

    def rows(name: str) -> Rows:
        for number, row in enumerate(workbook[name].iter_rows(), start=1):
            yield (
                number,
                [
                    (cell.value, isinstance(cell.value, int | float) and _is_pct(cell))
                    for cell in row
                ],
            )

    return list(workbook.sheetnames), rows, workbook.close


def _is_pct(cell: Any) -> bool:
    return is_percent_format(getattr(cell, "number_format", None))


class _Quiet:
    """A log file that keeps nothing: xlrd writes its warnings to stdout otherwise."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


def _xls_sheets(path: str) -> tuple[list[str], Callable[[str], Rows], Callable[[], None]]:
    import xlrd

    book = xlrd.open_workbook(
        path, formatting_info=True, on_demand=True, logfile=_Quiet(), verbosity=0
    )
    percent_xf = {
        index
        for index, xf in enumerate(book.xf_list)
        if is_percent_format(getattr(book.format_map.get(xf.format_key), "format_str", None))
    }

    def value(cell: Any) -> Any:
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if cell.ctype == xlrd.XL_CELL_ERROR:
            return xlrd.error_text_from_code.get(cell.value, "#N/A")
        if cell.ctype == xlrd.XL_CELL_DATE:
            return xlrd.xldate_as_datetime(cell.value, book.datemode)
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
            return int(cell.value)  # xls keeps every number as a float; 2024 is a year
        return cell.value

    def rows(name: str) -> Rows:
        sheet = book.sheet_by_name(name)
        for r in range(sheet.nrows):
            yield (
                r + 1,
                [
                    (value(cell), cell.ctype == xlrd.XL_CELL_NUMBER and cell.xf_index in percent_xf)
                    for cell in sheet.row(r)
                ],
            )

    return list(book.sheet_names()), rows, book.release_resources


def _header_index(
    rows: list[tuple[int, list[Cell]]],
    header_row: int | None,
    column_map: Mapping[str, str] | None,
    where: str,
) -> int:
    if header_row is not None:
        for index, (number, _) in enumerate(rows):
            if number == header_row:
                return index
        raise UsageError(
            f"{where}: row {header_row} is blank or past the end of the sheet; "
            "pass the header's row number as --header-row"
        )
    best = max(
        range(min(len(rows), _HEADER_SEARCH_ROWS)),
        key=lambda i: (header_score([v for v, _ in rows[i][1]], column_map) >= 2, -i),
    )
    found = header_score([v for v, _ in rows[best][1]], column_map) >= 2
    return best if found else 0  # no ratio header: the first row, and column errors follow


def open_excel(
    path: str,
    kind: str,
    batch_size: int,
    sheet: str | None,
    header_row: int | None,
    column_map: Mapping[str, str] | None,
) -> TableSource:
    """Open a workbook's sheet as a TableSource (read whole; batches are slices of it)."""
    read = read_excel(path, sheet=sheet, header_row=header_row, column_map=column_map, format=kind)
    table = read.table
    return TableSource(
        f"{path} (sheet {read.sheet!r}, header row {read.header_row})",
        kind,
        list(table.schema.names),
        _open_batches=lambda _text: iter(table.to_batches(max_chunksize=batch_size)),
        rows=table.num_rows,
        percent_columns=read.percent_columns,
    )


def read_excel(
    path: str,
    *,
    sheet: str | None,
    header_row: int | None = None,
    column_map: Mapping[str, str] | None = None,
    format: str = "xlsx",
) -> ExcelTable:
    """Return the sheet as an ExcelTable; blank rows are not data rows."""
    opener = _xls_sheets if format == "xls" else _xlsx_sheets
    try:
        names, read_rows, close = opener(path)
    except AccuNodeError:
        raise
    except Exception as error:  # each library has its own zoo of exceptions for a bad file
        raise UnreadableFileError(
            f"{path} is not a readable Excel workbook (truncated or corrupt?): {_reason(error)}"
        ) from error
    try:
        if sheet is not None and sheet not in names:
            raise UsageError(f"{path} has no sheet {sheet!r}; its sheets are {_listed(names)}")
        chosen = sheet if sheet is not None else names[0]
        where = f"{path} (sheet {chosen!r})"
        try:
            rows = [(n, cells) for n, cells in read_rows(chosen) if not _blank(cells)]
        except Exception as error:
            raise UnreadableFileError(f"cannot read {where}: {_reason(error)}") from error
    finally:
        close()
    if not rows:
        others = [name for name in names if name != chosen]
        hint = f"; the workbook's sheets are {_listed(names)}" if others else ""
        raise UnreadableFileError(
            f"{where} has no data{hint}" + ("; pass --sheet NAME" if others else ""),
            details={"sheet": chosen, "sheets": names},
        )
    start = _header_index(rows, header_row, column_map, where)
    number, header_cells = rows[start]
    header = ["" if v is None else str(v).strip() for v, _ in header_cells]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise UnreadableFileError(f"{where} has no header row")
    check_names(header, name=where)
    return _table(chosen, header, rows[start + 1 :], number)


def _table(
    sheet: str, header: list[str], body: list[tuple[int, list[Cell]]], header_row: int
) -> ExcelTable:
    import pyarrow as pa

    columns, percent = [], set()
    for j, name in enumerate(header):
        cells: list[Cell] = [row[j] if j < len(row) else (None, False) for _, row in body]
        numbers = [p for v, p in cells if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers and all(numbers):
            percent.add(name)
            values = [_percent_points(float(v)) if p else v for v, p in cells]
        else:  # some cells formatted, some not: a formatted one keeps its sign, as text does
            values = [f"{_percent_points(float(v))}%" if p else v for v, p in cells]
        columns.append(_column(values))
    table = pa.Table.from_arrays(columns, names=header)
    return ExcelTable(sheet, table, frozenset(percent), header_row)


def _listed(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
