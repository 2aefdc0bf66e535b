"""Streaming table readers: CSV/TSV (plain, gzip, stdin), Parquet, Excel and JSON lines.

Each source exposes the input's column ``names`` before any data is read and yields Arrow
record batches in input order. Third-party errors are translated here, once, into
:class:`~accunode_cli.errors.UnreadableFileError`.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from accunode_cli.errors import ColumnError, UnreadableFileError, UsageError
from accunode_cli.tabular import jsonlines
from accunode_cli.tabular.columns import check_names
from accunode_cli.tabular.formats import (
    EXCEL_FORMATS,
    CsvDialect,
    read_header,
    sniff_csv_dialect,
    sniff_format,
)
from accunode_cli.tabular.locations import is_remote, open_remote_source

__all__ = ["TableSource", "drop_blank_rows", "open_source", "jsonl_source", "HEAD_BYTES"]

HEAD_BYTES = 64 * 1024
_ROW_BYTES_GUESS = 96


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class _Prefixed(io.RawIOBase):
    """A read-only stream that replays bytes already read, then continues from the rest."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class TableSource:
    """An opened input: its name, format, column names and a way to stream its batches."""

    name: str
    format: str
    names: list[str]
    dialect: CsvDialect | None = None
    _open_batches: Any = field(default=None, repr=False)
    rows: int | None = None  # known up front for Parquet and Excel
    # Excel columns whose numbers were all formatted as percentages (read as points already).
    percent_columns: frozenset[str] = frozenset()

    def batches(self, *, text_columns: frozenset[str] = frozenset()) -> Iterator[Any]:
        """Yield pyarrow RecordBatches of data rows; ``text_columns`` stay text (JSON lines)."""
        try:
            for batch in self._open_batches(text_columns):
                batch = drop_blank_rows(batch)
                if batch.num_rows:
                    yield batch
        except (UnreadableFileError, ColumnError):
            raise
        except (OSError, EOFError, ValueError, TypeError, KeyError) as error:
            raise UnreadableFileError(f"cannot read {self.name}: {_one_line(error)}") from error
        except Exception as error:
            import pyarrow as pa

            if isinstance(error, pa.ArrowException):
                raise UnreadableFileError(f"cannot read {self.name}: {_one_line(error)}") from error
            raise


def _blank(column: Any) -> Any:
    # No Python scalars go into pyarrow.compute here: converting one imports pandas.
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        # Empty, or every character a space; no string is copied (trimming would copy them).
        empty = pc.invert(pc.cast(pc.binary_length(column), pa.bool_()))
        return pc.or_kleene(pc.or_(empty, pc.utf8_is_space(column)), pc.is_null(column))
    return pc.is_null(column)


def drop_blank_rows(batch: Any) -> Any:
    """Drop rows whose every cell is null or blank (a spreadsheet's ",,,,"): no data rows."""
    import pyarrow.compute as pc

    if batch.num_columns == 0 or batch.num_rows == 0:
        return batch
    blank = _blank(batch.column(0))
    if not pc.any(blank).as_py():  # the usual case: one column looked at, nothing to drop
        return batch
    for column in batch.columns[1:]:
        blank = pc.and_(blank, _blank(column))
    return batch.filter(pc.invert(blank)) if pc.any(blank).as_py() else batch


def _read_head(stream: BinaryIO) -> bytes:
    chunks, size = [], 0
    while size < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def open_source(
    path: str,
    *,
    batch_size: int,
    sheet: str | None = None,
    header_row: int | None = None,
    column_map: Mapping[str, str] | None = None,
) -> TableSource:
    """Open INPUT (a path, or ``-`` for CSV on stdin) and read its column names.

    ``sheet`` and ``header_row`` apply to Excel workbooks; ``column_map`` helps find their
    header row below a title block.
    """
    if path == "-":
        if sheet is not None or header_row is not None:
            raise UsageError("--sheet and --header-row apply to Excel files only")
        return _open_stdin(batch_size=batch_size)
    if is_remote(path):
        return open_remote_source(path, batch_size=batch_size, sheet=sheet)
    file = Path(path)
    if not file.exists():
        raise UnreadableFileError(f"no such file: {path}")
    if file.is_dir():
        raise UnreadableFileError(f"{path} is a directory, not a file")
    try:
        with open(file, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise UnreadableFileError(f"cannot read {path}: {error.strerror}") from error
    kind = sniff_format(head, name=path)
    if (sheet is not None or header_row is not None) and kind not in EXCEL_FORMATS:
        raise UsageError("--sheet and --header-row apply to Excel files only")
    if kind == "parquet":
        return _open_parquet(path, batch_size=batch_size)
    if kind in EXCEL_FORMATS:
        from accunode_cli.tabular.excel import open_excel

        return open_excel(path, kind, batch_size, sheet, header_row, column_map)
    gzipped = head.startswith(b"\x1f\x8b")
    if kind == "jsonl":
        return _open_jsonl(path, gzipped=gzipped, batch_size=batch_size)
    return _open_csv_file(path, gzipped=gzipped, batch_size=batch_size)


def _decompressed_head(path: str, *, gzipped: bool) -> bytes:
    import gzip

    try:
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as handle:
            return _read_head(handle)  # type: ignore[arg-type]
    except (OSError, EOFError) as error:
        raise UnreadableFileError(f"cannot read {path}: {_one_line(error)}") from error


def _open_csv_file(path: str, *, gzipped: bool, batch_size: int) -> TableSource:
    head = _decompressed_head(path, gzipped=gzipped)
    compression = "gzip" if gzipped else None
    dialect = sniff_csv_dialect(head, name=path, compression=compression)
    names = read_header(head, dialect, name=path)
    check_names(names, name=path)

    def batches(_text: frozenset[str]) -> Iterator[Any]:
        import pyarrow as pa

        stream = pa.input_stream(path, compression=compression)
        yield from _csv_batches(stream, dialect, names, batch_size=batch_size)

    return TableSource(path, "csv", names, dialect, _open_batches=batches)


def _open_stdin(*, batch_size: int) -> TableSource:
    raw: BinaryIO = sys.stdin.buffer
    head = _read_head(raw)
    if not head.strip():
        raise UnreadableFileError("standard input is empty")
    stream: BinaryIO = io.BufferedReader(_Prefixed(head, raw), buffer_size=1 << 20)
    compression = None
    if head.startswith(b"\x1f\x8b"):
        import gzip

        stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
        head = _read_head(stream)
        stream = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
        compression = "gzip"
    kind = sniff_format(head, name="standard input")
    if kind != "csv":
        raise UnreadableFileError(f"standard input looks like {kind}; only CSV is read from '-'")
    dialect = sniff_csv_dialect(head, name="standard input", compression=compression)
    names = read_header(head, dialect, name="standard input")
    check_names(names, name="standard input")

    def batches(_text: frozenset[str]) -> Iterator[Any]:
        yield from _csv_batches(stream, dialect, names, batch_size=batch_size)

    return TableSource("standard input", "csv", names, dialect, _open_batches=batches)


def _csv_batches(stream: Any, dialect: CsvDialect, names: list[str], *, batch_size: int) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    block = max(1 << 20, min(batch_size * _ROW_BYTES_GUESS, 64 << 20))
    read_options = pcsv.ReadOptions(
        block_size=block,
        encoding="utf8" if dialect.encoding == "utf8" else dialect.encoding,
        use_threads=True,
    )
    parse_options = pcsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=True)
    # Every column is read as text: cells pass through unchanged and a late "NM" in a column
    # that looked numeric cannot break the stream. The scorer parses the ratio columns.
    convert_options = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    reader = pcsv.open_csv(
        stream,
        read_options=read_options,
        parse_options=parse_options,
        convert_options=convert_options,
    )
    try:
        for batch in reader:
            if batch.num_rows:
                yield batch
    finally:
        with suppress(Exception):
            reader.close()


def _open_parquet(path: str, *, batch_size: int) -> TableSource:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Read column chunks as they are needed: pre-buffering whole row groups costs memory
        # (and time) with nothing to gain on a local file.
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFileError(
            f"{path} is not a readable Parquet file: {_one_line(error)}"
        ) from error
    names = list(parquet.schema_arrow.names)
    check_names(names, name=path)

    def batches(_text: frozenset[str]) -> Iterator[Any]:
        try:
            yield from parquet.iter_batches(batch_size=batch_size, use_threads=False)
        finally:
            parquet.close()

    return TableSource(
        path, "parquet", names, _open_batches=batches, rows=parquet.metadata.num_rows
    )


def _open_jsonl(path: str, *, gzipped: bool, batch_size: int) -> TableSource:
    import gzip

    # Closed by the batch generator of jsonl_source (or there on failure), not by a with-block.
    handle: BinaryIO = gzip.open(path, "rb") if gzipped else open(path, "rb")  # type: ignore[assignment]  # noqa: SIM115, E501
    return jsonl_source(handle, name=path, batch_size=batch_size)


def jsonl_source(handle: BinaryIO, *, name: str, batch_size: int) -> TableSource:
    """Read JSON lines from an open binary stream, which the source closes when done."""
    try:
        reader = jsonlines.JsonLinesReader(handle, name=name, batch_size=batch_size)
    except BaseException:
        handle.close()
        raise
    check_names(reader.names, name=name)

    def batches(text: frozenset[str]) -> Iterator[Any]:
        try:
            yield from reader.batches(text_columns=text)
        finally:
            handle.close()

    return TableSource(name, "jsonl", reader.names, _open_batches=batches)


def input_size(path: str) -> int | None:
    """Return the input's size in bytes, None for stdin."""
    if path == "-":
        return None
    with suppress(OSError):
        return os.path.getsize(path)
    return None
