"""A job's results and rejected rows, streamed part by part (constant memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from accunode_cli.jobs.files import errors_key, result_key
from accunode_cli.storage.blobs import BlobStore

__all__ = ["stream_results_csv", "stream_results_parquet", "stream_errors_csv"]


def _tables(blobs: BlobStore, keys: Sequence[str]) -> Iterator[Any]:
    import pyarrow.parquet as pq

    for key in keys:
        with blobs.open(key) as handle:
            yield pq.read_table(handle)


def stream_results_csv(blobs: BlobStore, job_id: Any, numbers: Sequence[int]) -> Iterator[bytes]:
    """Yield the results of the given chunks as CSV, header first, in row order."""
    import pyarrow.csv as pcsv

    keys = [result_key(job_id, number) for number in numbers]
    for position, table in enumerate(_tables(blobs, keys)):
        sink = io.BytesIO()
        pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=position == 0))
        yield sink.getvalue()


class _Chunks(io.RawIOBase):
    """A write-only file that hands out what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def stream_results_parquet(
    blobs: BlobStore, job_id: Any, numbers: Sequence[int]
) -> Iterator[bytes]:
    """Yield the results of the given chunks as one Parquet file, a row group per chunk."""
    import pyarrow.parquet as pq

    sink = _Chunks()
    writer = None
    for table in _tables(blobs, [result_key(job_id, number) for number in numbers]):
        if writer is None:
            writer = pq.ParquetWriter(sink, table.schema, compression="zstd")
        elif table.schema != writer.schema:
            table = table.cast(writer.schema)  # a JSON-lines part may have inferred another type
        writer.write_table(table)
        yield sink.take()
    if writer is not None:
        writer.close()
        yield sink.take()


def stream_errors_csv(blobs: BlobStore, job_id: Any, numbers: Sequence[int]) -> Iterator[bytes]:
    """Yield the rejected rows as CSV: row, column, value, reason."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["row", "column", "value", "reason"])
    for table in _tables(blobs, [errors_key(job_id, number) for number in numbers]):
        for row in zip(*(table.column(n).to_pylist() for n in table.schema.names), strict=True):
            writer.writerow(row)
        yield text.getvalue().encode()
        text.seek(0)
        text.truncate()
    yield text.getvalue().encode()
