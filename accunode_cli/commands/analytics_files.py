"""Stream files through the analytics functions: tabular's readers and writers in, out.

Shared by `accunode drift` and `accunode stress`; the analytics package never reads files.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accunode_cli.errors import ColumnError, UnreadableFileError, UsageError

if TYPE_CHECKING:
    from accunode_cli.analytics import DriftReport, Scenario, StressSummary
    from accunode_cli.tabular import ColumnMatch, TableSource

__all__ = ["RatioTable", "open_ratio_table", "drift_files", "stress_file"]


@dataclass
class RatioTable:
    """An opened input with its model kind, ratio columns and (optional) sector column."""

    source: TableSource
    match: ColumnMatch
    sector: str | None

    @property
    def kind(self) -> str:
        """Return the model kind of the table."""
        return self.match.kind

    def batches(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Yield (record batch, raw ratio columns) pairs, in input order."""
        from accunode_cli.tabular.columns import to_point_decimals, uses_decimal_comma

        columns = self.match.columns
        decimal_comma: bool | None = None
        found = False
        for batch in self.source.batches(text_columns=frozenset(columns.values())):
            found = True
            raw = {ratio: batch.column(name) for ratio, name in columns.items()}
            if decimal_comma is None:
                dialect = self.source.dialect
                semicolon = dialect is not None and dialect.delimiter != ","
                decimal_comma = semicolon and uses_decimal_comma(list(raw.values()))
            if decimal_comma:
                raw = {ratio: to_point_decimals(column) for ratio, column in raw.items()}
            yield batch, raw
        if not found:
            raise UnreadableFileError(f"{self.source.name} has a header but no data rows")


def open_ratio_table(path: str, *, kind: str | None, batch_size: int) -> RatioTable:
    """Open a table with ratio columns; a scored file's output columns are simply ignored."""
    from accunode_cli.scoring import fold_column_name
    from accunode_cli.tabular import infer_kind, match_columns, open_source
    from accunode_cli.tabular.columns import OUTPUT_COLUMNS

    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    source = open_source(path, batch_size=batch_size)
    names = [
        n for n in source.names if n not in OUTPUT_COLUMNS and not n.startswith("contribution_")
    ]
    kind = kind or infer_kind(names, source=source.name)
    match = match_columns(names, kind, source=source.name)
    sector = next((n for n in source.names if fold_column_name(n) == "sector"), None)
    return RatioTable(source, match, sector)


def drift_files(
    current: str,
    *,
    reference: str | None,
    kind: str | None,
    batch_size: int,
    model_dir: str | None,
) -> DriftReport:
    """Return the drift of CURRENT against REFERENCE (default: the model's training data)."""
    from accunode_cli.analytics import drift_report
    from accunode_cli.scoring import load_model

    table = open_ratio_table(current, kind=kind, batch_size=batch_size)
    base = None
    if reference is not None:
        base = open_ratio_table(reference, kind=table.kind, batch_size=batch_size)
    model = load_model(table.kind, model_dir)
    population = _counted(model, table)
    reference_population = _counted(model, base) if base is not None else None
    return drift_report(model, population, reference=reference_population, reference_name=reference)


def _counted(model: Any, table: RatioTable) -> Any:
    """Count a table's batches into a Population, reading and counting on two threads."""
    from accunode_cli.analytics import Population

    population = Population(model)
    for _ in _in_order(table.batches(), lambda pair: population.add(pair[1])):
        pass
    return population


def _combine(batch: Any, outputs: Any) -> Any:
    import pyarrow as pa

    clash = [name for name in outputs.column_names if name in batch.schema.names]
    if clash:
        raise ColumnError(
            f"the input already has the stress output column(s) {', '.join(clash)}; "
            "remove them (is this a stressed file?)",
            details={"clashing": clash},
        )
    return pa.RecordBatch.from_arrays(
        list(batch.columns) + [column.combine_chunks() for column in outputs.columns],
        names=list(batch.schema.names) + list(outputs.column_names),
    )


def _in_order(
    items: Iterator[Any], work: Callable[[Any], Any], *, in_flight: int = 2
) -> Iterator[Any]:
    """Yield work(item) in order, computing in one worker thread while the caller reads on.

    numpy and pyarrow release the GIL, so reading (and the caller's writing) overlaps with
    scoring on the second core; at most ``in_flight`` results wait, so memory stays flat.
    """
    pending: deque[Future[Any]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="accunode-analytics") as pool:
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) > in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def stress_file(
    path: str,
    scenario: Scenario,
    *,
    output: str | None,
    output_format: str | None,
    kind: str | None,
    batch_size: int,
    model_dir: str | None,
) -> StressSummary:
    """Stress every row of PATH; write baseline and stressed results to OUTPUT when given."""
    from accunode_cli.analytics import StressSummary, stress_columns, stress_table
    from accunode_cli.scoring import load_model
    from accunode_cli.tabular.formats import output_format_for
    from accunode_cli.tabular.sinks import TableSink, reserve_output

    table = open_ratio_table(path, kind=kind, batch_size=batch_size)
    model = load_model(table.kind, model_dir)
    summary = StressSummary(table.kind, model.version, scenario)
    fmt = output_format_for(output, output_format) if output else None

    def work(pair: tuple[Any, dict[str, Any]]) -> Any:
        batch, raw = pair
        sector = batch.column(table.sector) if table.sector else None
        baseline, stressed = stress_columns(model, raw, scenario, sector=sector)
        summary.add(baseline, stressed)  # one worker thread: batches are added in order
        return _combine(batch, stress_table(baseline, stressed)) if fmt is not None else None

    pending = reserve_output(output) if output else None
    sink: TableSink | None = None
    try:
        for rows in _in_order(table.batches(), work):
            if fmt is not None:
                sink = sink or TableSink(pending, fmt, rows.schema, first=rows)
                sink.write(rows)
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        if pending is not None:
            pending.discard()
        raise
    if pending is not None:
        pending.commit()
    return summary
