"""Bulk scoring: stream a table through the scoring engine into an output table.

Reading and writing run in the calling thread while a second thread scores the previous
batch (numpy and pyarrow release the GIL), so both cores work. At most a few batches are in
flight, which keeps memory flat however long the input is.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accunode_cli.errors import UnreadableFileError, UsageError
from accunode_cli.tabular.columns import (
    ColumnMatch,
    infer_kind,
    match_columns,
    to_point_decimals,
    uses_decimal_comma,
)
from accunode_cli.tabular.formats import output_format_for
from accunode_cli.tabular.rejects import ErrorsWriter, default_errors_path
from accunode_cli.tabular.sinks import PendingFile, TableSink, reserve_output
from accunode_cli.tabular.sources import TableSource, open_source
from accunode_cli.tabular.summary import BulkSummary

__all__ = ["DEFAULT_BATCH_SIZE", "BulkRequest", "BulkResult", "score_file", "default_errors_path"]

DEFAULT_BATCH_SIZE = 65_536
_IN_FLIGHT = 2


@dataclass(frozen=True)
class BulkRequest:
    """What to score and where to write it."""

    input: str
    output: str = "-"
    kind: str | None = None
    errors: str | None = None
    explain: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    format: str | None = None
    sheet: str | None = None
    model_dir: str | None = None
    # Extra output columns made from each ScoredBatch (e.g. cumulative PDs by horizon).
    extra_columns: Callable[[Any], dict[str, Any]] | None = None


@dataclass(frozen=True)
class BulkResult:
    """What a bulk run did."""

    summary: dict[str, Any]
    output: str
    output_format: str
    errors_file: str | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        rate = self.summary["rows"] / self.seconds if self.seconds > 0 else None
        return {
            **self.summary,
            "output": self.output,
            "output_format": self.output_format,
            "errors_file": self.errors_file,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(rate) if rate else None,
        }


def _same_file(a: str, b: str | None) -> bool:
    if a == "-" or b is None or b == "-":
        return False
    try:
        return os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def _prepare_batch(batch: Any, match: ColumnMatch, *, decimal_comma: bool) -> dict[str, Any]:
    import pyarrow as pa

    raw = {ratio: batch.column(column) for ratio, column in match.columns.items()}
    if decimal_comma:
        raw = {
            ratio: to_point_decimals(column) if pa.types.is_string(column.type) else column
            for ratio, column in raw.items()
        }
    return raw


def _score_batch(
    model: Any,
    batch: Any,
    match: ColumnMatch,
    summary: BulkSummary,
    *,
    decimal_comma: bool,
    explain: bool,
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> tuple[Any, Any, dict[str, Any]]:
    import pyarrow as pa

    raw = _prepare_batch(batch, match, decimal_comma=decimal_comma)
    scored = model.score_columns(raw)
    summary.add(scored)  # one scoring thread: batches are added one at a time
    # Dictionary-encoded labels: same values, no per-row strings; the writers take them as
    # they are and Parquet stores them as plain strings.
    outputs = scored.to_arrow(explain=explain, dictionary=True)
    extras = extra(scored) if extra is not None else {}
    table = pa.RecordBatch.from_arrays(
        list(batch.columns)
        + [column.combine_chunks() for column in outputs.columns]
        + list(extras.values()),
        names=list(batch.schema.names) + list(outputs.schema.names) + list(extras),
    )
    cells = {ratio: batch.column(column) for ratio, column in match.columns.items()}
    return table, scored, cells


def _plan(request: BulkRequest) -> tuple[TableSource, ColumnMatch, str]:
    if request.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if request.output != "-" and Path(request.output).is_dir():
        raise UsageError(f"the output {request.output} is a directory")
    output_format = output_format_for(request.output, request.format)
    if output_format == "parquet" and request.output == "-":
        raise UsageError("Parquet output needs a file; pass -o FILE.parquet")
    source = open_source(request.input, batch_size=request.batch_size, sheet=request.sheet)
    kind = request.kind or infer_kind(source.names, source=source.name)
    match = match_columns(source.names, kind, source=source.name)
    errors = request.errors or default_errors_path(request.output)
    for target in (request.output, errors):
        if _same_file(request.input, target):
            raise UsageError(f"{target} is the input file; choose another output")
    if errors is not None and errors == request.output:
        raise UsageError("--errors must differ from the output file")
    return source, match, output_format


@contextmanager
def _reserved(*paths: str | None) -> Iterator[list[PendingFile | None]]:
    """Reserve the outputs; commit them all on success, discard them all on any failure."""
    reserved: list[PendingFile | None] = []
    try:
        for path in paths:
            reserved.append(reserve_output(path) if path else None)
        yield reserved
    except BaseException:
        for pending in reserved:
            if pending is not None:
                pending.discard()
        raise
    for pending in reserved:
        if pending is not None:
            pending.commit()


def _uses_decimal_comma(source: TableSource, match: ColumnMatch, first: Any) -> bool:
    if source.dialect is None or source.dialect.delimiter == ",":
        return False
    return uses_decimal_comma([first.column(c) for c in match.columns.values()])


def score_file(
    request: BulkRequest,
    *,
    on_rows: Callable[[int], None] | None = None,
    on_total: Callable[[int | None], None] | None = None,
) -> BulkResult:
    """Score every row of INPUT into OUTPUT; return the summary of the run.

    ``on_total`` hears the number of rows when the format knows it up front (Parquet, Excel);
    ``on_rows`` hears each written batch's rows.
    """
    from accunode_cli.scoring import load_model

    started = time.perf_counter()
    source, match, output_format = _plan(request)
    model = load_model(match.kind, request.model_dir)
    if on_total is not None:
        on_total(source.rows)
    batches = source.batches(text_columns=frozenset(match.columns.values()))
    first = next(batches, None)
    if first is None:
        raise UnreadableFileError(f"{source.name} has a header but no data rows")
    options = {
        "decimal_comma": _uses_decimal_comma(source, match, first),
        "explain": request.explain,
        "extra": request.extra_columns,
    }
    errors_path = request.errors or default_errors_path(request.output)
    summary = BulkSummary(match.kind, model.version, model.ratio_names)
    with _reserved(request.output if request.output != "-" else None, errors_path) as pending:
        _run(
            model,
            _chain(first, batches),
            match,
            summary=summary,
            sink_target=(pending[0], output_format),
            errors=ErrorsWriter(pending[1]),
            options=options,
            on_rows=on_rows,
        )
    return BulkResult(
        summary=summary.to_dict(),
        output=request.output,
        output_format=output_format,
        errors_file=errors_path,
        seconds=time.perf_counter() - started,
    )


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _run(
    model: Any,
    batches: Iterator[Any],
    match: ColumnMatch,
    *,
    summary: BulkSummary,
    sink_target: tuple[PendingFile | None, str],
    errors: ErrorsWriter,
    options: dict[str, Any],
    on_rows: Callable[[int], None] | None,
) -> None:
    """Read here, score in one thread, write in another; order is kept by the queues."""
    sink: TableSink | None = None
    next_row = 1

    def write(scoring: Future[tuple[Any, Any, dict[str, Any]]]) -> int:
        nonlocal sink, next_row
        table, scored, raw = scoring.result()
        if sink is None:
            sink = TableSink(sink_target[0], sink_target[1], table.schema, first=table)
        sink.write(table)
        errors.add(next_row, scored, raw, match)
        next_row += table.num_rows
        return int(table.num_rows)

    writes: deque[Future[int]] = deque()

    def finish_one() -> None:
        rows = writes.popleft().result()
        if on_rows is not None:
            on_rows(rows)

    scorer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accunode-score")
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accunode-write")
    try:
        for batch in batches:
            scoring = scorer.submit(_score_batch, model, batch, match, summary, **options)
            writes.append(writer.submit(write, scoring))
            if len(writes) > _IN_FLIGHT:
                finish_one()
        while writes:
            finish_one()
        if sink is not None:
            sink.close()
    except BaseException:
        for future in writes:
            future.cancel()
        scorer.shutdown(wait=True, cancel_futures=True)
        writer.shutdown(wait=True, cancel_futures=True)
        if sink is not None:
            sink.abort()
        raise
    finally:
        scorer.shutdown(wait=True)
        writer.shutdown(wait=True)
        errors.close()
