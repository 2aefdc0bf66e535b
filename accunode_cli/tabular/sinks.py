"""Streaming writers for CSV, Parquet and JSON lines that never leave a partial file behind.

A file output is written to a hidden temporary file beside the target and renamed over it only
when the whole run succeeded; on any failure the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from accunode_cli.errors import AccuNodeError, UsageError
from accunode_cli.tabular.locations import is_remote, reserve_remote_output

__all__ = ["PendingFile", "TableSink", "dictionary_columns", "reserve_output"]


class PendingFile:
    """A reserved output: a temporary file beside ``target``, renamed onto it on commit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        if target.is_dir():
            raise UsageError(f"the output {target} is a directory")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
            )
        except OSError as error:
            raise UsageError(f"cannot write {target}: {error.strerror or error}") from error
        os.close(fd)
        self.temp = Path(temp)

    def commit(self) -> None:
        """Move the finished file into place with the usual permissions."""
        umask = os.umask(0)
        os.umask(umask)
        with contextlib.suppress(OSError):
            self.temp.chmod(0o666 & ~umask)
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        """Remove the temporary file."""
        with contextlib.suppress(OSError):
            self.temp.unlink()


def reserve_output(path: str) -> PendingFile | None:
    """Check that OUTPUT can be written and reserve it; None means stdout."""
    if is_remote(path):  # an s3:// URL: staged locally, uploaded on commit
        return reserve_remote_output(path)  # type: ignore[return-value]
    return None if path == "-" else PendingFile(Path(path))


def _json_ready(table: Any) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def dictionary_columns(batch: Any) -> list[str]:
    """Return the columns worth dictionary-encoding in Parquet: text or integers that repeat.

    Parquet's default tries a dictionary for every column and falls back page by page, which
    costs more than the write itself on unique names and ids; the first batch tells us which
    columns repeat.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen = []
    sample = batch.slice(0, 8192)
    limit = max(16, sample.num_rows // 10)
    for name, column in zip(sample.schema.names, sample.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind):
            chosen.append(name)  # already a dictionary: Parquet writes it as one directly
            continue
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_integer(kind) or pa.types.is_boolean(kind)):  # fmt: skip
            continue
        if pc.count_distinct(column).as_py() <= limit:
            chosen.append(name)
    return chosen


class TableSink:
    """Write record batches of one schema to a file or stdout in csv, parquet or jsonl."""

    def __init__(
        self, pending: PendingFile | None, fmt: str, schema: Any, *, first: Any = None
    ) -> None:
        import pyarrow as pa

        self._format = fmt
        self._pending = pending
        self._writer: Any = None
        self._stream: Any = None
        if pending is None and fmt == "parquet":
            raise UsageError("Parquet output needs a file; pass -o FILE.parquet")
        target = str(pending.temp) if pending else None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            dictionary = dictionary_columns(first) if first is not None else True
            # Floats (ratios, probabilities, contributions) barely compress: skip the codec.
            compression = {
                field.name: "none" if pa.types.is_floating(field.type) else "snappy"
                for field in schema
            }
            # Without the stored Arrow schema, dictionary-typed label columns read back as
            # the plain strings they are (Parquet encodes them as dictionaries either way).
            self._writer = pq.ParquetWriter(
                target,
                schema,
                compression=compression,
                use_dictionary=dictionary,
                store_schema=False,
            )
            return
        if pending is None:
            self._stream = pa.PythonFile(sys.stdout.buffer, mode="w")
        else:
            self._stream = pa.OSFile(str(pending.temp), "wb")
            if pending.target.name.lower().endswith(".gz"):
                self._stream = pa.CompressedOutputStream(self._stream, "gzip")
        if fmt == "csv":
            import pyarrow.csv as pcsv

            self._writer = pcsv.CSVWriter(self._stream, schema)

    def write(self, table: Any) -> None:
        """Append a table or record batch; a failing disk is a run-time error (exit 1)."""
        import pyarrow as pa

        try:
            self._write(table)
        except (OSError, pa.ArrowException) as error:
            where = self._pending.target if self._pending else "standard output"
            raise AccuNodeError(f"cannot write {where}: {error}") from error

    def _write(self, table: Any) -> None:
        if self._format == "jsonl":
            lines = "".join(
                json.dumps(row, ensure_ascii=False, default=str) + "\n"
                for row in _json_ready(table)
            )
            self._stream.write(lines.encode())
        elif hasattr(table, "to_batches"):
            self._writer.write_table(table)
        else:
            self._writer.write_batch(table)

    def close(self) -> None:
        """Flush and close (stdout itself stays open)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._stream is not None:
            if self._pending is None:
                self._stream.flush()
                sys.stdout.buffer.flush()
            else:
                self._stream.close()
            self._stream = None

    def abort(self) -> None:
        """Close without caring about errors (the pending file is discarded by its owner)."""
        with contextlib.suppress(Exception):
            self.close()
